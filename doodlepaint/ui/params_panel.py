"""Render settings: a preset over sliders and spin boxes for every engine parameter, plus the device.

The document's TransferParams is the one source of truth: `set_params` fills the widgets with their
signals blocked, and every user edit emits `params_changed` with a new TransferParams.
"""
from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QSpinBox, QWidget)

from doodlepaint.engine import PRESETS, TransferParams
from doodlepaint.engine.methods import KNOBS, all_methods, method_info

PRESET_FIELDS = ("phases", "iterations", "match_every", "style_stride")
# methods a preset chooses (Instant's); the other presets keep the optimisation method chosen (Patches or Gram)
PRESET_METHODS = frozenset(preset.method for preset in PRESETS.values() if method_info(preset.method).one_pass)
CUSTOM = "Custom"

TIPS = {
    "preset": "Instant paints in one pass (a fraction of a second) with a network trained for it; Draft is "
              "quick for trying ideas, Normal is the everyday quality, High takes longest and copies the "
              "painting's brushwork most faithfully. Changing the detailed settings below makes it Custom.",
    "beta": "Style weight (β): how strongly the result copies the texture and brushwork of the painting.",
    "alpha": "Photo weight (α): how much of your photo's shapes survive under the paint. "
             "Only matters when a photo is under the doodle.",
    "gamma": "Label weight (γ): how strictly each region borrows from the same label in the painting. "
             "0 ignores your labels, 50 is balanced, 250 is very strict.",
    "patch_size": "Patch size: the size of the brush marks copied from the painting. 3 keeps fine "
                  "detail, 5 and 7 copy bigger motifs.",
    "size": "Output width in pixels. 'Doodle size' renders at the size you painted. Bigger is slower.",
    "phases": "Phases: the picture is painted small first, then refined at double size each phase. "
              "More phases give larger coherent structures.",
    "iterations": "Steps in the last (full-size) phase; the smaller phases before it get twice as many, as "
                  "they are cheap. The status bar counts the steps of the phase it is in. More steps make a "
                  "more finished painting and take longer.",
    "seed": "Seed: the starting noise. The same seed gives the same picture; a new seed gives a variation.",
    "method": "How the painting is made: " + " ".join(method.tip for method in all_methods()),
    "device": "Where the painting is computed. A GPU is many times faster than the CPU.",
}


class SliderSpin(QWidget):
    """A slider and a spin box showing one number; `step` is the slider's resolution."""

    value_changed = Signal(float)

    def __init__(self, minimum: float, maximum: float, step: float, decimals: int, parent=None):
        super().__init__(parent)
        self.minimum, self.step = minimum, step
        self.slider = QSlider(Qt.Orientation.Horizontal)
        # counted in steps from the minimum: 3..7 in steps of 2 is 3, 5, 7 (not 4, 6, 8 from 3 / 2 rounded)
        self.slider.setRange(0, round((maximum - minimum) / step))
        self.spin = QDoubleSpinBox()
        self.spin.setRange(minimum, maximum)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(step)
        self.spin.setFixedWidth(72)
        self.spin.setKeyboardTracking(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(lambda v: self._user_set(self.minimum + v * self.step))
        self.spin.valueChanged.connect(self._user_set)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        for widget, shown in ((self.slider, round((value - self.minimum) / self.step)), (self.spin, value)):
            widget.blockSignals(True)
            widget.setValue(shown)
            widget.blockSignals(False)

    def _user_set(self, value: float) -> None:
        self.set_value(value)
        self.value_changed.emit(value)


class ParamsPanel(QWidget):
    params_changed = Signal(object)     # TransferParams
    device_changed = Signal(str)        # a pick_device choice

    def __init__(self, devices: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.params = TransferParams()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, CUSTOM])
        self.preset.textActivated.connect(self._preset_chosen)
        self.beta = SliderSpin(0, 100, 0.5, 1)
        self.alpha = SliderSpin(0, 100, 0.5, 1)
        self.gamma = SliderSpin(0, 250, 1, 0)
        self.patch_size = SliderSpin(3, 7, 2, 0)
        self.size = QSpinBox()
        self.size.setRange(0, 4096)
        self.size.setSingleStep(64)
        self.size.setSpecialValueText("Doodle size")
        self.size.setSuffix(" px")
        self.phases = QSpinBox()
        self.phases.setRange(1, 6)
        self.iterations = QSpinBox()
        self.iterations.setRange(1, 2000)
        self.iterations.setSingleStep(10)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        self.new_seed = QPushButton("New seed")
        self.new_seed.clicked.connect(lambda: self.seed.setValue(random.randrange(2 ** 31)))
        self.method = QComboBox()
        for method in all_methods():
            self.method.addItem(method.label, method.name)
            self.method.setItemData(self.method.count() - 1, method.tip, Qt.ItemDataRole.ToolTipRole)
        self.device = QComboBox()
        for choice, name in devices:
            self.device.addItem(name, choice)
        seed_row = QWidget()
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        seed_layout.addWidget(self.seed, 1)
        seed_layout.addWidget(self.new_seed)

        rows = (("Quality", self.preset, "preset"), ("Style β", self.beta, "beta"), ("Labels γ", self.gamma, "gamma"),
                ("Photo α", self.alpha, "alpha"), ("Patch size", self.patch_size, "patch_size"),
                ("Size", self.size, "size"), ("Phases", self.phases, "phases"),
                ("Steps", self.iterations, "iterations"), ("Seed", seed_row, "seed"),
                ("Method", self.method, "method"), ("Device", self.device, "device"))
        self.knob_rows: dict[str, tuple[QLabel, QWidget]] = {}
        for text, widget, tip in rows:
            label = QLabel(text)
            label.setToolTip(TIPS[tip])
            widget.setToolTip(TIPS[tip])
            form.addRow(label, widget)
            if tip in KNOBS:
                self.knob_rows[tip] = (label, widget)

        for slider in (self.beta, self.alpha, self.gamma, self.patch_size):
            slider.value_changed.connect(self._edited)
        for spin in (self.size, self.phases, self.iterations, self.seed):
            spin.valueChanged.connect(self._edited)
        self.method.currentIndexChanged.connect(self._edited)
        self.device.currentIndexChanged.connect(lambda: self.device_changed.emit(self.device.currentData()))

    def set_params(self, params: TransferParams) -> None:
        self.params = params
        for widget in (self.preset, self.size, self.phases, self.iterations, self.seed, self.method):
            widget.blockSignals(True)
        self.beta.set_value(params.beta)
        self.alpha.set_value(params.alpha)
        self.gamma.set_value(params.gamma)
        self.patch_size.set_value(params.patch_size)
        self.size.setValue(params.size or 0)
        self.phases.setValue(params.phases)
        self.iterations.setValue(params.iterations)
        self.seed.setValue(params.seed)
        self.method.setCurrentIndex(self.method.findData(params.method))
        self.preset.setCurrentText(preset_of(params))
        self._show_knobs(method_info(params.method))
        for widget in (self.preset, self.size, self.phases, self.iterations, self.seed, self.method):
            widget.blockSignals(False)

    def _show_knobs(self, method) -> None:
        """Disable the settings the method does not read, saying why in their tooltips."""
        for knob, (label, widget) in self.knob_rows.items():
            used = knob in method.knobs
            tip = TIPS[knob] if used else f"{method.label.split(' (')[0]} does not use this setting. {TIPS[knob]}"
            for part in (label, widget):
                part.setEnabled(used)
                part.setToolTip(tip)

    def set_device(self, choice: str) -> None:
        index = self.device.findData(choice)
        if index >= 0:
            self.device.setCurrentIndex(index)

    def set_device_label(self, choice: str, label: str) -> None:
        self.device.setItemText(self.device.findData(choice), label)

    def _edited(self, *_):
        patch = int(self.patch_size.value())
        patch = patch if patch % 2 else patch + 1
        params = self.params.replace(
            beta=self.beta.value(), alpha=self.alpha.value(), gamma=self.gamma.value(), patch_size=patch,
            size=self.size.value() if self.size.value() >= 16 else None, phases=self.phases.value(),
            iterations=self.iterations.value(), seed=self.seed.value(), method=self.method.currentData())
        self.set_params(params)
        self.params_changed.emit(params)

    def _preset_chosen(self, name: str) -> None:
        if name in PRESETS:
            preset = PRESETS[name]
            changes = {f: getattr(preset, f) for f in PRESET_FIELDS}
            if preset.method in PRESET_METHODS or self.params.method in PRESET_METHODS:
                changes["method"] = preset.method     # into or out of Instant; otherwise keep Patches or Gram
            params = self.params.replace(**changes)
            self.set_params(params)
            self.params_changed.emit(params)
        else:
            self.set_params(self.params)


def preset_of(params: TransferParams) -> str:
    for name, preset in PRESETS.items():
        if (preset.method in PRESET_METHODS) != (params.method in PRESET_METHODS):
            continue
        if all(getattr(params, f) == getattr(preset, f) for f in PRESET_FIELDS):
            return name
    return CUSTOM
