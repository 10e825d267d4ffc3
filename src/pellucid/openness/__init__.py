"""How open a model is: MOF class (as the Model Openness Tool computes it), OSAID 1.0 and the
European Open Source AI Index, from the files of a model folder or from a MOT record."""

from __future__ import annotations

from pellucid.openness.mof import MofResult, evaluate
from pellucid.openness.mot import MotRecordError, score_mot_record, to_mot_record

__all__ = ["MofResult", "MotRecordError", "evaluate", "score_mot_record", "to_mot_record"]
