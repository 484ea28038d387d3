"""``times_t``: h @ W.T whichever way it is computed, C-contiguous."""

import numpy as np
import pytest

from engine.numpy_engine.matmul import FEW_ROWS, times_t


@pytest.mark.parametrize("rows", [1, 2, 8, FEW_ROWS, FEW_ROWS + 1, 300])
def test_times_t_is_h_times_w_transposed(rows: int) -> None:
    rng = np.random.default_rng(rows)
    h, W = rng.normal(size=(rows, 48)).astype(np.float32), rng.normal(size=(70, 48)).astype(
        np.float32)
    out = times_t(h, W)
    assert out.shape == (rows, 70) and out.flags.c_contiguous and out.dtype == np.float32
    np.testing.assert_allclose(out, h.astype(np.float64) @ W.T.astype(np.float64), rtol=1e-5,
                               atol=1e-5)
