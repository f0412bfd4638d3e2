"""CPU features in effect: CPU flags capped by ONEDNN_MAX_CPU_ISA and TF_ENABLE_ONEDNN_OPTS."""

import pytest

from course_lib import hardware

AVX512_BF16_CPU = frozenset({"sse4_1", "avx", "avx2", "avx512f", "avx512bw", "avx512_vnni",
                             "avx512_bf16"})
AVX2_CPU = frozenset({"sse4_1", "avx", "avx2", "avx_vnni"})


@pytest.fixture
def cpu(monkeypatch):
    """Set the CPU flags (None: unknown) and clear both oneDNN variables."""
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)

    def set_flags(flags):
        monkeypatch.setattr(hardware, "cpu_flags", lambda: flags)
    return set_flags


def test_without_a_cap_the_features_are_the_cpus(cpu):
    cpu(AVX512_BF16_CPU)
    assert hardware.features() == {"avx2": True, "avx_vnni": False, "avx512f": True,
                                   "avx512_vnni": True, "avx512_bf16": True, "avx512_fp16": False,
                                   "amx_tile": False}
    assert hardware.missing("amx_tile") == "this CPU has no amx_tile"


@pytest.mark.parametrize(("cap", "in_effect"), [
    ("AVX2", {"avx2"}),
    ("avx512_core", {"avx2", "avx512f"}),  # oneDNN accepts any case
    ("AVX512_CORE_VNNI", {"avx2", "avx512f", "avx512_vnni"}),
    ("AVX512_CORE_BF16", {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    ("AVX512_CORE_AMX", {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),  # no AMX here
    ("ALL", {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    ("DEFAULT", {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    ("SSE41", set()),
])
def test_onednn_max_cpu_isa_caps_the_features(cpu, monkeypatch, cap, in_effect):
    cpu(AVX512_BF16_CPU)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert {f for f, present in hardware.features().items() if present} == in_effect


@pytest.mark.parametrize(("cap", "in_effect"), [
    (None, {"avx2", "avx_vnni"}), ("AVX2", {"avx2"}), ("AVX2_VNNI", {"avx2", "avx_vnni"})])
def test_an_avx2_cpu_with_avx_vnni(cpu, monkeypatch, cap, in_effect):
    cpu(AVX2_CPU)
    if cap:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert {f for f, present in hardware.features().items() if present} == in_effect
    assert hardware.missing("avx512f") == "this CPU has no avx512f"


def test_the_reason_names_the_cap_and_the_level_needed(cpu, monkeypatch):
    cpu(AVX512_BF16_CPU)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert hardware.missing("avx512_bf16") == (
        "ONEDNN_MAX_CPU_ISA=AVX2 caps oneDNN below AVX512_CORE_BF16")
    assert hardware.missing("avx512_bf16", runtime="cpu") is None  # XNNPACK ignores the cap


def test_onednn_off_means_no_onednn_feature(cpu, monkeypatch):
    cpu(AVX512_BF16_CPU)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert not any(hardware.features().values())
    assert "TF_ENABLE_ONEDNN_OPTS=0" in hardware.missing("avx512_vnni")
    assert hardware.features("cpu")["avx512_vnni"]


def test_unknown_flags_and_bad_values(cpu, monkeypatch):
    cpu(None)
    assert not any(hardware.features().values())
    assert "does not report CPU flags" in hardware.missing("avx2")
    with pytest.raises(ValueError, match="parameter feature must be one of"):
        hardware.missing("avx9000")
    with pytest.raises(ValueError, match="runtime"):
        hardware.missing("avx2", runtime="gpu")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX3")
    with pytest.raises(ValueError, match="AVX3"):
        hardware.onednn_isa_cap()


@pytest.mark.parametrize(("flags", "env", "runs"), [
    (AVX512_BF16_CPU, {}, True),
    (AVX512_BF16_CPU, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, True),  # emulated bfloat16
    (AVX512_BF16_CPU, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, False),  # oneDNN refuses, TF insists
    (AVX512_BF16_CPU, {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "0"}, True),
    (AVX2_CPU, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, True),  # TensorFlow keeps bfloat16 on Eigen
    (None, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, False),  # unknown CPU: assume the worst
])
def test_bfloat16_ops_run(cpu, monkeypatch, flags, env, runs):
    cpu(flags)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (hardware.bfloat16_ops_run() is None) == runs
    assert hardware.missing(hardware.BFLOAT16_OPS) == hardware.bfloat16_ops_run()


def test_report_states_the_setting_and_each_feature(cpu, monkeypatch):
    cpu(AVX512_BF16_CPU)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    rows = dict(hardware.report())
    assert rows["oneDNN (TensorFlow's fast CPU kernels)"] == (
        "on, capped at AVX2 (ONEDNN_MAX_CPU_ISA)")
    assert rows[hardware.CPU_FEATURES["avx2"]] == "in effect"
    assert rows[hardware.CPU_FEATURES["avx512f"]] == (
        "no: ONEDNN_MAX_CPU_ISA=AVX2 caps oneDNN below AVX512_CORE")


def test_check_claim_asserts_where_the_feature_is_in_effect(cpu, capsys):
    cpu(AVX512_BF16_CPU)
    assert hardware.check_claim("bfloat16 is faster", True, needs="avx512_bf16")
    with pytest.raises(AssertionError, match="bfloat16 is faster"):
        hardware.check_claim("bfloat16 is faster", lambda: False, needs="avx512_bf16")
    assert hardware.check_claim("int8 is faster", True, needs=("amx_tile", "avx512_vnni"))
    assert hardware.check_claim("int8 is faster", True, needs=("avx_vnni", "avx512_vnni"),
                                runtime="cpu")
    assert capsys.readouterr().out == ""


def test_check_claim_says_why_it_does_not_assert(cpu, monkeypatch, capsys):
    cpu(AVX512_BF16_CPU)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    never_called = []
    assert not hardware.check_claim("bfloat16 is faster", lambda: never_called.append(1),
                                    needs="avx512_bf16")
    assert never_called == []
    assert capsys.readouterr().out == (
        "not asserted on this machine: bfloat16 is faster "
        "(ONEDNN_MAX_CPU_ISA=AVX2 caps oneDNN below AVX512_CORE_BF16)\n")
    with pytest.raises(ValueError, match="at least one"):
        hardware.check_claim("x", True, needs=())


def test_cpu_flags_reads_this_machine():
    flags = hardware.cpu_flags()
    assert flags is None or all(isinstance(flag, str) for flag in flags)
