"""The Help menu's "How it works" page."""

HOW_IT_WORKS = """
<h2>How doodlepaint works</h2>
<p>doodlepaint paints a picture from your doodle in the style of a painting you choose
(semantic style transfer, after Champandard's <i>Neural Doodle</i>, 2016).</p>
<ol>
<li><b>The painting.</b> The top left view shows the style painting with its <i>label map</i> on top:
flat colours that say what each part is — sky, sea, rock. Paint on it to correct the labels, or use
<i>Suggest labels…</i> to start from colour regions, one label each (one step that Edit → Undo
takes back).</li>
<li><b>The doodle.</b> The view below it is your doodle, painted with the same labels. Where you paint
“sea”, the result borrows brush marks from the painting's sea. You can put a photo under the doodle
(<i>File → Open Photo Under Doodle</i>) to keep its shapes.</li>
<li><b>Render.</b> The <i>Result</i> view on the right first shows the <i>instant</i> picture (one pass
of a network trained for doodlepaint, a fraction of a second), then the optimisation paints it small and
refines it phase by phase; the line above the Result says what you are looking at. The <i>Instant</i>
quality stops after the first pass. With <i>Live</i> on, every stroke or slider change shows the
instant picture at once, and when you pause it is refined. <i>File → Export at Size…</i> paints the
final picture bigger than the preview.</li>
</ol>
<h3>Settings</h3>
<ul>
<li><b>Style β</b>: how strongly to copy the painting's texture.</li>
<li><b>Labels γ</b>: how strictly regions stick to their own label (0 ignores labels).</li>
<li><b>Photo α</b>: how much of the photo's shapes to keep.</li>
<li><b>Patch size</b>: the size of the copied brush marks.</li>
</ul>
<h3>Keys</h3>
<table cellpadding="2">
<tr><td>B / E / G / I</td><td>brush, eraser, fill, eyedropper</td></tr>
<tr><td>[ and ]</td><td>smaller and bigger brush</td></tr>
<tr><td>Shift-click</td><td>straight line from the last point</td></tr>
<tr><td>Right button</td><td>paint the label in bold in the Labels list</td></tr>
<tr><td>Eraser</td><td>takes your strokes back: the map as it was opened, suggested or cleared</td></tr>
<tr><td>Space-drag, middle button</td><td>pan</td></tr>
<tr><td>Wheel, Ctrl+= / Ctrl+-</td><td>zoom; Ctrl+0 fits, Ctrl+1 is 100 %</td></tr>
<tr><td>Ctrl+Z; Ctrl+Y or Ctrl+Shift+Z</td><td>undo; redo (on the map you last painted)</td></tr>
<tr><td>M</td><td>show or hide the label map over the painting and the photo</td></tr>
<tr><td>Ctrl+R, Esc</td><td>render, cancel</td></tr>
<tr><td>Ctrl+E</td><td>export PNG</td></tr>
</table>
"""
