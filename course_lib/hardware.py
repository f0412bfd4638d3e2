"""The CPU features *in effect* for TensorFlow, and hardware-dependent claims.

Introduced in notebook 00 (which shows them); used by notebooks 09 and 11 wherever a claim
holds only on some CPUs. What a CPU offers and what TensorFlow uses are not the same thing:

- the CPU's flags are read from ``/proc/cpuinfo`` (Linux). Elsewhere (macOS, Windows) none are
  known, and every feature counts as missing, with that reason;
- TensorFlow's fast CPU kernels come from oneDNN, which uses the newest instruction set the CPU
  has, up to the cap ``ONEDNN_MAX_CPU_ISA`` (e.g. ``AVX2`` makes an AVX-512 machine behave like
  an AVX2 one);
- ``TF_ENABLE_ONEDNN_OPTS=0`` switches oneDNN off (TensorFlow's Eigen kernels instead), so no
  oneDNN bfloat16 or int8 (VNNI) kernel runs at all.

Runtimes that detect the CPU themselves, such as LiteRT's XNNPACK, ignore both variables: ask
for them with ``runtime="cpu"``.

- :func:`features` (which of :data:`CPU_FEATURES` are in effect) and :func:`missing` (why one
  is not) answer the question; :func:`report` tabulates it for notebook 00;
- :func:`bfloat16_ops_run` says whether TensorFlow can run bfloat16 operations here at all;
- :func:`check_claim` asserts a claim where the feature it depends on is in effect, and says
  so, with the reason, where it is not: a claim is never silently skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .parameters import check_param

CPU_FEATURES = {
    "avx2": "AVX2 (256-bit vector math)",
    "avx_vnni": "AVX-VNNI (int8 dot products, 256-bit)",
    "avx512f": "AVX-512 (512-bit vector math)",
    "avx512_vnni": "AVX-512 VNNI (int8 dot products)",
    "avx512_bf16": "AVX-512 BF16 (bfloat16 dot products)",
    "avx512_fp16": "AVX-512 FP16 (float16 arithmetic)",
    "amx_tile": "AMX (matrix tiles)",
}

# oneDNN's values of ONEDNN_MAX_CPU_ISA, oldest first: each level includes the ones before it.
ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE",
               "AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX",
               "AVX512_CORE_AMX_FP16")
# The oneDNN level that a feature needs, i.e. the lowest cap that still lets oneDNN use it.
FEATURE_ISA = {"avx2": "AVX2", "avx_vnni": "AVX2_VNNI", "avx512f": "AVX512_CORE",
               "avx512_vnni": "AVX512_CORE_VNNI", "avx512_bf16": "AVX512_CORE_BF16",
               "avx512_fp16": "AVX512_CORE_FP16", "amx_tile": "AVX512_CORE_AMX"}
RUNTIMES = ("onednn", "cpu")
BFLOAT16_OPS = "bfloat16_ops"  # a requirement of check_claim: TensorFlow runs bfloat16 ops here


def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from Linux's /proc/cpuinfo; None where they are not known."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return None


def onednn_enabled() -> bool:
    """False when ``TF_ENABLE_ONEDNN_OPTS`` switches TensorFlow's oneDNN kernels off."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false")


def onednn_isa_cap() -> str | None:
    """The ``ONEDNN_MAX_CPU_ISA`` level (upper case), or None when it sets no cap (unset,
    ``ALL`` or ``DEFAULT``). Raises ValueError for a value oneDNN does not know."""
    value = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    if value in ("", "ALL", "DEFAULT"):
        return None
    if value not in ONEDNN_ISAS:
        raise ValueError(f"ONEDNN_MAX_CPU_ISA={value} is not one of oneDNN's levels: "
                         f"{', '.join(ONEDNN_ISAS)}, ALL, DEFAULT")
    return value


def _check_feature(feature: str, runtime: str) -> None:
    check_param("feature", feature, str, choices={*CPU_FEATURES, BFLOAT16_OPS})
    check_param("runtime", runtime, str, choices=RUNTIMES)


def missing(feature: str, runtime: str = "onednn") -> str | None:
    """None where ``feature`` is in effect, otherwise why it is not (one short sentence).

    ``runtime="onednn"`` (TensorFlow's kernels) applies ``ONEDNN_MAX_CPU_ISA`` and
    ``TF_ENABLE_ONEDNN_OPTS``; ``runtime="cpu"`` only asks the CPU (for runtimes such as
    LiteRT's XNNPACK that pick their kernels themselves). ``feature`` may also be
    :data:`BFLOAT16_OPS`: whether TensorFlow can run bfloat16 operations (:func:`bfloat16_ops_run`).
    """
    _check_feature(feature, runtime)
    if feature == BFLOAT16_OPS:
        return bfloat16_ops_run()
    flags = cpu_flags()
    if flags is None:
        return f"this system does not report CPU flags, so {feature} is not known to be present"
    if feature not in flags:
        return f"this CPU has no {feature}"
    if runtime == "cpu":
        return None
    if not onednn_enabled():
        return f"TF_ENABLE_ONEDNN_OPTS=0 switches oneDNN off, so no kernel uses {feature}"
    cap, needed = onednn_isa_cap(), FEATURE_ISA[feature]
    if cap is not None and ONEDNN_ISAS.index(cap) < ONEDNN_ISAS.index(needed):
        return f"ONEDNN_MAX_CPU_ISA={cap} caps oneDNN below {needed}"
    return None


def features(runtime: str = "onednn") -> dict[str, bool]:
    """Which of :data:`CPU_FEATURES` are in effect (see :func:`missing`)."""
    return {feature: missing(feature, runtime) is None for feature in CPU_FEATURES}


def bfloat16_ops_run() -> str | None:
    """None where TensorFlow can run bfloat16 operations on this CPU, otherwise why not.

    TensorFlow decides from the CPU itself (AVX-512 present) whether to hand bfloat16
    convolutions and matrix products to oneDNN; oneDNN has bfloat16 kernels from AVX512_CORE up
    (emulated below AVX512_CORE_BF16). With oneDNN capped below AVX512_CORE on such a CPU, it
    refuses them (``AbortedError``, or the whole process aborts). Without AVX-512, or with
    oneDNN off, TensorFlow runs bfloat16 with its own (slow) Eigen kernels.
    """
    if not onednn_enabled():
        return None
    cap = onednn_isa_cap()
    if cap is None or ONEDNN_ISAS.index(cap) >= ONEDNN_ISAS.index("AVX512_CORE"):
        return None
    flags = cpu_flags()
    if flags is not None and "avx512f" not in flags:
        return None
    return (f"ONEDNN_MAX_CPU_ISA={cap} caps oneDNN below AVX512_CORE, where it has no bfloat16 "
            "kernels, but TensorFlow still hands them bfloat16 work")


def report() -> list[tuple[str, str]]:
    """(feature, state) rows: "in effect", or "no: <reason>", one per :data:`CPU_FEATURES`,
    after a row that states the oneDNN setting. Used by notebook 00."""
    if not onednn_enabled():
        setting = "off (TF_ENABLE_ONEDNN_OPTS=0): TensorFlow's Eigen kernels"
    else:
        cap = onednn_isa_cap()
        setting = f"on, capped at {cap} (ONEDNN_MAX_CPU_ISA)" if cap else "on, no cap"
    rows = [("oneDNN (TensorFlow's fast CPU kernels)", setting)]
    for feature, description in CPU_FEATURES.items():
        reason = missing(feature)
        rows.append((description, "in effect" if reason is None else f"no: {reason}"))
    return rows


def check_claim(claim: str, holds: bool | Callable[[], bool], needs: str | tuple[str, ...],
                runtime: str = "onednn") -> bool:
    """Assert a hardware-dependent ``claim`` where the feature it ``needs`` is in effect.

    ``needs`` is one feature of :data:`CPU_FEATURES` (or :data:`BFLOAT16_OPS`), or a tuple of
    them (any one suffices).
    ``holds`` is the measured truth of the claim, a bool or a function that computes it (then it
    is only called where the claim is asserted). Where the feature is in effect, raises
    AssertionError when the claim does not hold and returns True. Elsewhere prints
    ``not asserted on this machine: <claim> (<reason>)`` and returns False.
    """
    needed = (needs,) if isinstance(needs, str) else tuple(needs)
    if not needed:
        raise ValueError("needs must name at least one CPU feature")
    reasons = [missing(feature, runtime) for feature in needed]
    if any(reason is None for reason in reasons):
        value = holds() if callable(holds) else holds
        assert value, f"claim does not hold on this machine: {claim}"
        return True
    print(f"not asserted on this machine: {claim} ({'; '.join(reasons)})")
    return False
