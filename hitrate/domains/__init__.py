"""Hit rate beyond sales: betting strategies and bet logs, slot machines.

Each command's function takes the store (``bets``) or the file (``slots_par``, ``slots_reels``,
``slots_spins``) first and keyword arguments named as the command's options, and returns a result object
(``summary()``, ``to_frame()``, ``to_dict()``, ``plot()``)::

    import hitrate.domains as d
    d.bets(store, strategy="favourite", by=["season"]).plot()
    d.slots_par("par_sheet.csv", wager=3).summary()

Names load lazily, so ``import hitrate.domains`` costs nothing until one is used.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "BetsResult": "betting",
        "STRATEGIES": "betting",
        "bets": "betting",
        "Machine": "slots",
        "SlotStats": "slots",
        "enumerate_machine": "slots",
        "load_machine": "slots",
        "machine_from_dict": "slots",
        "par_from_table": "slots",
        "simulate": "slots",
        "simulated_stats": "slots",
        "slots_par": "slots",
        "slots_reels": "slots",
        "slots_spins": "slots",
        "spin_log_stats": "slots",
    },
)
