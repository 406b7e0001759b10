"""The library's own exceptions; the CLI maps each to an exit code and a one-line message."""

from __future__ import annotations


class MladvisorError(Exception):
    """Base of every error the tool reports to a person instead of a traceback."""

    exit_code = 1


class InputError(MladvisorError):
    """Bad input: names the file, the field path and what was expected (exit code 2)."""

    exit_code = 2

    def __init__(self, file: str, path: str, expected: str, got: object = None) -> None:
        self.file = str(file)
        self.path = path
        self.expected = expected
        self.got = got
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.expected}"
        if self.got is not None:
            got = repr(self.got) if not isinstance(self.got, str) else self.got
            if len(got) > 60:
                got = got[:57] + "..."
            text += f", got {got}"
        return " ".join(text.split())

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "path": self.path, "expected": self.expected,
                "got": None if self.got is None else str(self.got)}


class RuleBaseError(MladvisorError):
    """The rule base or knowledge is invalid (a broken install, not a user's input).

    `line`, when known, is where the offending rule, example or field starts, so that the
    message reads `rules/data.yaml:37: rules.3.when: ...` and an editor can jump there."""

    exit_code = 2

    def __init__(self, file: str, path: str, problem: str, line: int | None = None) -> None:
        self.file = str(file)
        self.path = path
        self.problem = problem
        self.line = line
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {path}: {problem}" if path else f"{where}: {problem}")


class AuditError(MladvisorError):
    """The audit log failed verification or cannot be used (exit code 3)."""

    exit_code = 3
