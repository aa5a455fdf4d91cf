"""Where a render runs, behind one interface: on this machine (`LocalBackend`) or on a doodlepaint server
(`RemoteServer`). Both have `run_transfer(request, should_stop) -> Iterator[Progress]`; Qt-free."""
