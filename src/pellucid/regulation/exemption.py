"""Art. 53(2) open-source exemption and the Art. 51(2) systemic-risk presumption.

Art. 53(2) lifts the documentation duties of Art. 53(1)(a) and (b) for a model released under
a free and open-source licence allowing access, use, modification and distribution, whose
weights, architecture information and usage information are public, unless the model has
systemic risk. This module checks the three conditions a folder can show:

1. the licence: ``terms.art53_foss`` of the identified licence in pellucid's licence
   knowledge ("yes", "no", or "doubtful" for use restrictions of the RAIL kind, whose
   treatment is unsettled, hence "undetermined");
2. publicity: weight files, architecture information (config.json or the card), usage
   information (card); absence from one folder does not prove absence from the public, so a
   gap gives "undetermined", never "not met";
3. systemic risk: training compute above 10^25 FLOP is presumed to be systemic risk
   (Art. 51(2)); compute is what the card states, else 6 x parameters x training tokens.

Monetisation (Recital 103) cannot be seen offline and is reported as not checked. Everything
here is an automated assessment, not legal advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pellucid.regulation.annexes import knowledge
from pellucid.regulation.evidence import Folder, Hit, evaluate_check

SYSTEMIC_RISK_FLOP = 1e25  # Art. 51(2)
DISCLAIMER = "This is an automated assessment, not legal advice."
MET, NOT_MET, UNDETERMINED = "met", "not met", "undetermined"
USAGE_CHECKS = ("integration", "intended_use")


@dataclass(frozen=True, slots=True)
class Compute:
    """Training compute: stated by the card, or estimated as 6 x N x D."""

    flop: float | None
    method: str | None  # "stated" or "6 x parameters x tokens"
    tokens: int | None
    parameters: int | None
    evidence: Hit | None


@dataclass(frozen=True, slots=True)
class Exemption:
    """The Art. 53(2) assessment of one model."""

    verdict: str  # "applies", "does not apply", "undetermined"
    reasons: tuple[dict[str, Any], ...]
    compute: Compute

    @property
    def systemic_risk_presumed(self) -> bool:
        return self.compute.flop is not None and self.compute.flop > SYSTEMIC_RISK_FLOP


def estimate_compute(
    parameters: int | None,
    tokens: tuple[int, Hit] | None,
    stated: tuple[float, Hit] | None,
) -> Compute:
    """Stated compute wins; else 6 x N x D when both are known; else unknown."""
    count, line = tokens if tokens is not None else (None, None)
    if stated is not None:
        return Compute(stated[0], "stated", count, parameters, stated[1])
    if parameters is not None and count is not None:
        return Compute(6.0 * parameters * count, "6 x parameters x tokens", count, parameters, line)
    return Compute(None, None, count, parameters, line)


def assess_exemption(
    folder: Folder, licence: str | None, foss: str | None, compute: Compute
) -> Exemption:
    """The verdict from the three conditions (plus monetisation, not checked)."""
    reasons = (
        _licence_condition(licence, foss),
        _public_condition(folder),
        _risk_condition(compute),
        {
            "condition": "not monetised",
            "status": "not checked",
            "reference": "Recital 103",
            "text": "Whether the model is provided against a price or otherwise monetised "
            "cannot be seen in a model folder.",
        },
    )
    statuses = [r["status"] for r in reasons[:3]]
    if NOT_MET in statuses:
        verdict = "does not apply"
    elif UNDETERMINED in statuses:
        verdict = "undetermined"
    else:
        verdict = "applies"
    return Exemption(verdict, reasons, compute)


def _reason(condition: str, status: str, reference: str, text: str) -> dict[str, Any]:
    return {"condition": condition, "status": status, "reference": reference, "text": text}


def _licence_condition(licence: str | None, foss: str | None) -> dict[str, Any]:
    name = "free and open-source licence"
    ref = "Art. 53(2); Recital 102"
    if licence is None:
        return _reason(name, UNDETERMINED, ref, "No licence was identified for the weights.")
    if foss == "yes":
        text = f"{licence} allows access, use, modification and distribution of the model."
        return _reason(name, MET, ref, text)
    if foss == "no":
        text = (
            f"{licence} is not a free and open-source licence in the sense of Art. 53(2) "
            "(it restricts use, users or distribution)."
        )
        return _reason(name, NOT_MET, ref, text)
    if foss == "doubtful":
        text = (
            f"{licence} carries use restrictions (e.g. a responsible-use policy) whose "
            "compatibility with Art. 53(2) is not settled."
        )
        return _reason(name, UNDETERMINED, ref, text)
    return _reason(name, UNDETERMINED, ref, f"No Art. 53(2) assessment is known for {licence}.")


def _public_condition(folder: Folder) -> dict[str, Any]:
    checks = knowledge()["checks"]
    shown = {
        "weights": folder.facts.get("weights"),
        "architecture information": evaluate_check(folder, "architecture", checks),
        "usage information": next(
            (h for c in USAGE_CHECKS if (h := evaluate_check(folder, c, checks)) is not None),
            None,
        ),
    }
    gaps = [name for name, hit in shown.items() if hit is None]
    name, ref = "weights, architecture and usage information public", "Art. 53(2)"
    if gaps:
        text = "Not shown in the folder: " + ", ".join(gaps) + "."
        return _reason(name, UNDETERMINED, ref, text)
    return _reason(
        name, MET, ref, "The folder holds the weights, architecture and usage information."
    )


def _risk_condition(compute: Compute) -> dict[str, Any]:
    name, ref = "no systemic risk", "Art. 53(2), last sentence; Art. 51(2)"
    flop = compute.flop
    if flop is None:
        missing = [
            what
            for what, value in (
                ("parameter count", compute.parameters),
                ("training tokens", compute.tokens),
            )
            if value is None
        ]
        text = "Training compute unknown (" + " and ".join(missing or ["compute"]) + " not stated)."
        return _reason(name, UNDETERMINED, ref, text)
    shown = f"{flop:.2e} FLOP ({compute.method})"
    if flop > SYSTEMIC_RISK_FLOP:
        text = f"Training compute {shown} exceeds 10^25 FLOP: systemic risk is presumed."
        return _reason(name, NOT_MET, ref, text)
    text = (
        f"Training compute {shown} is at most 10^25 FLOP; no presumption of systemic risk "
        "(a designation by the Commission under Art. 51(1)(b) cannot be seen offline)."
    )
    return _reason(name, MET, ref, text)


def art53_foss(licence: str | None, fallback: Any = None) -> str | None:
    """The licence knowledge's Art. 53(2) answer for ``licence`` ("yes", "no", "doubtful"),
    else ``terms.art53_foss`` of the licence analysis (``fallback``), else None."""
    answer = knowledge_answer(licence) if licence is not None else None
    if answer is None:
        answer = fallback
    return answer if answer in ("yes", "no", "doubtful") else None


def knowledge_answer(licence: str) -> Any:
    """``terms.art53_foss`` of ``licence`` in pellucid's licence knowledge, or None when the
    knowledge base does not know it or cannot be read."""
    try:
        from pellucid.licensing.knowledge import by_id

        entry = by_id(licence)
    except (ImportError, OSError, LookupError, ValueError, TypeError):
        return None
    return getattr(getattr(entry, "terms", None), "art53_foss", None)


def as_json(exemption: Exemption) -> dict[str, Any]:
    """The JSON-ready form of an exemption assessment."""
    compute = exemption.compute
    return {
        "verdict": exemption.verdict,
        "assessment": f"Art. 53(2) open-source exemption: {exemption.verdict}. {DISCLAIMER}",
        "reasons": list(exemption.reasons),
        "compute_flop": compute.flop,
        "compute_method": compute.method,
        "compute_evidence": None if compute.evidence is None else compute.evidence.as_json(),
        "tokens": compute.tokens,
        "parameters": compute.parameters,
        "threshold_flop": SYSTEMIC_RISK_FLOP,
        "systemic_risk_presumed": exemption.systemic_risk_presumed,
        "still_applies": _still_applies(),
        "note": (
            "Even where the exemption applies, the copyright policy (Art. 53(1)(c)) and the "
            "public training-content summary (Art. 53(1)(d)) remain due (Recital 104); the "
            "authorised-representative duty is lifted on the same conditions (Art. 54(6))."
        ),
        "disclaimer": DISCLAIMER,
    }


def _still_applies() -> list[dict[str, str]]:
    return [dict(item) for item in knowledge()["still_applies"]]
