"""The handwriting pad: a PyQt6 app around the `handwriting` library (Qt lives only here).

Start it with `handwriting app`; `app.main.run` is the entry point. Model work is done
by the library in a recognition process (`app.worker`, `app.worker_process`); the GUI
process only draws and wires.
"""

__all__: list[str] = []
