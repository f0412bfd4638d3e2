"""The committed profiles and baselines fit the committed notebooks."""

import pytest

from course_tools import baselines, runner

NOTEBOOKS = runner.discover()
PROFILES = baselines.available_profiles()


def test_the_three_profiles_exist():
    assert {"smoke", "default", "full"} <= set(PROFILES)


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_parameters_exist_in_their_notebooks(profile):
    stems = {p.stem: p for p in NOTEBOOKS}
    for stem, parameters in baselines.load_profile(profile).items():
        assert stem in stems, f"profile {profile} names {stem}, which is not a notebook"
        baselines.check_parameters(stems[stem], parameters)


def test_smoke_profile_covers_every_notebook():
    smoke = baselines.load_profile("smoke")
    missing = [p.stem for p in NOTEBOOKS if p.stem not in smoke]
    assert not missing, f"add these notebooks to regression/profiles/smoke.yaml: {missing}"


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_every_notebook_has_baselines(profile):
    recorded = baselines.load_baselines().get(profile, {})
    missing = [p.stem for p in NOTEBOOKS if not recorded.get(p.stem)]
    assert not missing, (f"record baselines with `make baselines PROFILE={profile}` for: "
                         f"{missing}")
