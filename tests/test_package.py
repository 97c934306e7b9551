"""The package's public names load on first use, and the kernel child imports little."""

import subprocess
import sys

import mgrisk
import mgrisk.cox


def test_every_public_name_resolves_and_is_listed():
    for package in (mgrisk, mgrisk.cox):
        for name in package.__all__:
            assert getattr(package, name) is not None
            assert name in dir(package)


def test_the_compile_child_imports_neither_pandas_nor_scikit_learn():
    code = (
        "import sys; import mgrisk.cox._warmup; "
        "print(sorted({'pandas', 'sklearn', 'scipy.stats', 'matplotlib'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
