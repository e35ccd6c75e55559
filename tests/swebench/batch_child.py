"""`swe-ttc batch` in a child process with a slow replay model, for kill and Ctrl-C tests.

python -m tests.swebench.batch_child BATCH_ARGS...   (the model is `replay/slow-steps`)
"""

from __future__ import annotations

import os
import sys

from sweagent.model.scripted import register_replay

STEP = {"thought": "Looking around.", "tool": "bash", "args": {"command": "ls"}}
MODEL = register_replay("slow-steps", [STEP] * 3, delay=float(os.environ.get("REPLY_DELAY", "0.4")))

if __name__ == "__main__":
    from sweagent.cli import main

    main(["batch", "--model", MODEL, *sys.argv[1:]])
