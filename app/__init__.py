"""The handwriting pad: a PyQt6 app around the `handwriting` library (Qt lives only here).

Start it with `handwriting app`; `app.main.run` is the entry point. Model work is done
by the library in a worker thread (`app.worker`); this package only draws and wires.
"""

__all__: list[str] = []
