"""The committed profiles and baselines fit the committed notebooks."""

import pytest

from course_tools import baselines, runner

NOTEBOOKS = runner.discover()
PROFILES = baselines.available_profiles()


def test_the_profiles_exist():
    assert {"default", "full"} <= set(PROFILES)


def test_the_default_profile_changes_nothing():
    """`make test` compares outputs with the committed notebooks, so it must run them as
    committed."""
    assert not any(baselines.load_profile("default").values())


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_parameters_exist_in_their_notebooks(profile):
    stems = {p.stem: p for p in NOTEBOOKS}
    for stem, parameters in baselines.load_profile(profile).items():
        assert stem in stems, f"profile {profile} names {stem}, which is not a notebook"
        baselines.check_parameters(stems[stem], parameters)


@pytest.mark.parametrize("profile", ["default"])
def test_every_notebook_has_baselines(profile):
    recorded = baselines.load_baselines().get(profile, {})
    missing = [p.stem for p in NOTEBOOKS if not recorded.get(p.stem)]
    assert not missing, (f"record baselines with `make baselines PROFILE={profile}` for: "
                         f"{missing}")
