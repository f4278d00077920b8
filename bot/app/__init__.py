"""Composition root: the Bolt app, the CLI and all its printing and exit codes, the HTTP and Socket Mode
servers, the scheduler, the tick that runs every feature's due work, and the offline demo. The only
package that imports `handlers`, Bolt's adapters, typer, granian, waitress and `bot.fake_slack`.
"""
