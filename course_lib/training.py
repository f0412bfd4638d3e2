"""Training helpers shared by every notebook that calls ``model.fit``.

Introduced in notebook 02. Keras's own progress output (``verbose=1`` or ``2``) includes
timings, which change on every run and would make saved notebook outputs non-deterministic, so
notebooks train with ``verbose=0`` and :class:`EpochLogger`, which prints one line per epoch
with the metrics only.
"""

from __future__ import annotations

import keras

from .parameters import check_param


class EpochLogger(keras.callbacks.Callback):
    """Print one line per epoch (every ``every`` epochs and the last): the logged metrics only.

    ``model.fit(..., verbose=0, callbacks=[cl.training.EpochLogger()])`` prints e.g.
    ``epoch 2/5: accuracy 0.9712, loss 0.0951, val_accuracy 0.9801, val_loss 0.0652``.
    """

    def __init__(self, every: int = 1, digits: int = 4, prefix: str = ""):
        super().__init__()
        check_param("every", every, int, ge=1)
        self.every, self.digits, self.prefix = every, digits, prefix

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        total = self.params.get("epochs")
        if (epoch + 1) % self.every and epoch + 1 != total:
            return
        shown = ", ".join(f"{name} {float(value):.{self.digits}f}"
                          for name, value in sorted((logs or {}).items()))
        print(f"{self.prefix}epoch {epoch + 1}/{total}: {shown}")
