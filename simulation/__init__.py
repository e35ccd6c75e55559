"""The simulation: a model of known, stated skill behind litellm, and fixture tasks it works on.

Used by `swe-ttc bench search`, `swe-ttc solve --demo --search` and tests, never by the code it
exercises: `search/`, `verifiers/` and `sweagent/` do not import it (a test checks the import graph).
The simulated model acts in real sandboxes and answers judge prompts; what it knows about the truth
reaches the search only as the work it does (which the search runs) and as reward scores whose
discrimination is a stated AUC. Modules: `tasks` (fixture repositories, hidden tests, grading),
`difficulty` (per-instance difficulty from SWE-bench Verified solve rates), `model` (the litellm
provider), `replay` (the benchmark's fast sandbox), `demo`, `bench` (`swe-ttc bench search`).
"""
