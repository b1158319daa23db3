"""Raising the hit rate: the rep card, goals, interventions, loss reasons, outreach and experiments.

One function per command, store first, keyword arguments named as the command's options; each returns a
result object (``summary()``, ``to_frame()``, ``to_dict()``, ``plot()``, a notebook view)::

    from hitrate.improve import rep_card, goals_progress, intervention_effect, reasons, experiment_plan

    card = rep_card(store, "Ana")                    # hitrate coach Ana (also hitrate.improve.coach.coach)
    goals_progress(store, off_track=True)            # hitrate goals progress --off-track
    intervention_effect(store, 1, window=60)         # hitrate intervention effect 1 --window 60
    reasons(store, by=["team"], period="quarter")    # hitrate reasons --by team --period quarter
    experiment_plan(baseline=0.2, lift=0.05)         # hitrate experiment plan --baseline 0.2 --lift 0.05

``hitrate.improve.coach`` and ``hitrate.improve.outreach`` are modules; their command functions are
``coach.coach`` (or :func:`rep_card`) and ``outreach.outreach``. Names load on first use, so importing the
package costs nothing.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        # hitrate coach
        "rep_card": "coach",
        "stage_gaps": "coach",
        "statements": "coach",
        "RepCard": "coach",
        "StageGaps": "coach",
        "UnknownRepError": "coach",
        "write_card": "coach_card",
        "card_sections": "coach_card",
        # hitrate goals
        "set_goal": "goals",
        "list_goals": "goals",
        "goals_progress": "goals",
        "progress": "goals",
        "Goal": "goals",
        "GoalList": "goals",
        "GoalsProgress": "goals",
        # hitrate intervention
        "add_intervention": "interventions",
        "list_interventions": "interventions",
        "intervention_effect": "interventions",
        "effect": "interventions",
        "did_counts": "interventions",
        "Intervention": "interventions",
        "InterventionList": "interventions",
        "EffectResult": "interventions",
        # hitrate feedback, hitrate reasons
        "add_feedback": "feedback",
        "list_feedback": "feedback",
        "recent_lost_deals": "feedback",
        "reasons": "feedback",
        "ReasonsResult": "feedback",
        "NotYourDeal": "feedback",
        # hitrate outreach
        "funnel": "outreach",
        "rank_sequences": "outreach",
        "personalisation_lift": "outreach",
        "FunnelResult": "outreach",
        "SequenceRanking": "outreach",
        "LiftResult": "outreach",
        # hitrate experiment
        "experiment_plan": "experiments",
        "experiment_compare": "experiments",
        "experiment": "experiments",
        "plan": "experiments",
        "prob_to_beat": "experiments",
        "ExperimentPlan": "experiments",
        "ExperimentResult": "experiments",
    },
)
