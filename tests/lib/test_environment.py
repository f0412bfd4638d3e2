"""Environment helpers: the lock comparison that notebook 00 relies on."""

from importlib import metadata

from course_lib.environment import lock_mismatches


def test_lock_mismatches_finds_wrong_and_missing_versions(tmp_path):
    numpy_version = metadata.version("numpy")
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "# a comment\n"
        f"numpy=={numpy_version}\n"
        "    # via something\n"
        "pytest==0.0.1\n"
        "surely-not-a-real-package-xyz==1.0\n"
        "colorama==0.0.1 ; sys_platform == 'win32' and sys_platform == 'linux'\n")
    assert lock_mismatches(lock) == [("pytest", "0.0.1", metadata.version("pytest")),
                                     ("surely-not-a-real-package-xyz", "1.0", "missing")]


def test_this_environment_matches_the_project_lock():
    assert lock_mismatches() == []
