"""The run inspector: a run folder rendered to one self-contained HTML page.

It reads only the files a run leaves (trajectories, `tree.json`, eval reports, `select/`, synth
exports), never the code that wrote them, so it works on a copy of a run taken from CI or another
machine. `page.render_run` writes the file; `serve.serve_run` serves a run live while it grows.
"""
