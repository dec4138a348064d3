"""specc.runtime: trials, studies, reports and the Python API (imports torch, TRL, Optuna
on use)."""

import logging

#: Import-time notices that say nothing about the user's run: bitsandbytes' optional CPU
#: kernel package, which TRL and PEFT import whether or not 4-bit training is used.
NOISY_LOGGERS: tuple[str, ...] = ("bitsandbytes.backends.cpu.ops",)

for _name in NOISY_LOGGERS:
    logging.getLogger(_name).setLevel(logging.ERROR)
