"""Executors: how a run's instances are scheduled (`local` threads or a `ray` cluster).

`base` holds the interface; `local` and `ray_cluster` the two implementations; `options` the CLI
flags every command that runs many instances shares. Import the submodules directly: this package
stays empty so that importing `sweagent.executors.carry` costs nothing.
"""
