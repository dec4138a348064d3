from specc.cli import entry

entry()
