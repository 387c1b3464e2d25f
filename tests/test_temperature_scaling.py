"""The temperature solver against closed forms, and the sqrt(d_k) experiment against its theory."""
import math

import numpy as np
import pytest
import torch

from attnkit import softmax
from attnkit.experiments.temperature_scaling import scaling_experiment, temperature_for_weight

NEWSLETTER_SCORES = [0.2, 0.9, 0.1]


@pytest.mark.parametrize("target", [0.4, 0.6, 0.75, 0.99])
def test_temperature_hits_the_target_weight(target):
    t = temperature_for_weight(NEWSLETTER_SCORES, index=1, target=target)
    weights = softmax(np.array(NEWSLETTER_SCORES) / t)
    assert weights[1] == pytest.approx(target, abs=1e-9)
    assert weights[2] < weights[0], "whatever the temperature, 0.1 < 0.2 keeps key 3 below key 1"


@pytest.mark.parametrize("gap,target", [(0.7, 0.75), (2.0, 0.6), (0.01, 0.9)])
def test_two_keys_match_the_closed_form(gap, target):
    # two keys: w = 1 / (1 + exp(-gap / T))  =>  T = gap / log(w / (1 - w))
    t = temperature_for_weight(torch.tensor([gap, 0.0], dtype=torch.float64), index=0, target=target)
    assert t == pytest.approx(gap / math.log(target / (1 - target)), rel=1e-9)


def test_unscaled_softmax_is_not_the_newsletters_75_percent():
    t = temperature_for_weight(NEWSLETTER_SCORES, index=1, target=0.75)
    assert t < 1, "plain softmax (T = 1) gives key 2 only about half the weight, so 75% needs T < 1"
    assert softmax(np.array(NEWSLETTER_SCORES))[1] < 0.75


def test_refuses_what_no_temperature_can_do():
    with pytest.raises(ValueError, match="softmax keeps the order"):
        temperature_for_weight(NEWSLETTER_SCORES, index=2, target=0.15)  # the newsletter's 15%
    with pytest.raises(ValueError, match="between 1/S = 0.3333"):
        temperature_for_weight(NEWSLETTER_SCORES, index=1, target=0.3)
    with pytest.raises(ValueError, match="between 1/S"):
        temperature_for_weight(NEWSLETTER_SCORES, index=1, target=1.0)
    with pytest.raises(ValueError, match="index is 3"):
        temperature_for_weight(NEWSLETTER_SCORES, index=3, target=0.5)
    with pytest.raises(ValueError, match="scores has shape"):
        temperature_for_weight([[0.2, 0.9]], index=1, target=0.75)


@pytest.fixture(scope="module")
def experiment():
    return scaling_experiment([4, 64, 1024], num_keys=16, num_trials=400, seed=0)


def test_dot_product_variance_grows_like_d_k(experiment):
    np.testing.assert_allclose(experiment.score_variance_unscaled, experiment.d_k, rtol=0.15)
    np.testing.assert_allclose(experiment.score_variance_scaled, 1.0, rtol=0.15)


def test_unscaled_softmax_saturates_and_scaled_does_not(experiment):
    assert np.all(np.diff(experiment.max_weight_unscaled) > 0), experiment.max_weight_unscaled
    assert experiment.max_weight_unscaled[-1] > 0.9, "at d_k = 1024 the softmax is nearly one-hot"
    assert np.ptp(experiment.max_weight_scaled) < 0.05, experiment.max_weight_scaled


def test_gradients_vanish_without_the_scale(experiment):
    assert np.all(np.diff(experiment.grad_norm_unscaled) < 0), experiment.grad_norm_unscaled
    assert experiment.grad_norm_unscaled[-1] < 0.25 * experiment.grad_norm_scaled[-1]
    assert np.ptp(experiment.grad_norm_scaled) < 0.2 * experiment.grad_norm_scaled.mean()


def test_gradient_is_the_softmax_jacobian_times_upstream():
    # with one trial the measured gradient norm must equal |(diag(p) - p p^T) g| for that trial
    d_k, S, seed = 8, 5, 3
    result = scaling_experiment([d_k], num_keys=S, num_trials=2, seed=seed)
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(2, 1, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(2, S, d_k, generator=g, dtype=torch.float64)
    upstream = torch.randn(2, S, generator=g, dtype=torch.float64)
    p = torch.softmax((q @ k.transpose(-1, -2))[:, 0], dim=-1)  # (N, S)
    jacobian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # (N, S, S), symmetric
    expected = (jacobian @ upstream[:, :, None]).norm(dim=(1, 2)).mean()
    assert result.grad_norm_unscaled[0] == pytest.approx(float(expected), rel=1e-9)


def test_same_seed_same_numbers():
    a = scaling_experiment([16], num_trials=50, seed=1)
    b = scaling_experiment([16], num_trials=50, seed=1)
    assert a.max_weight_unscaled[0] == b.max_weight_unscaled[0]
    with pytest.raises(ValueError, match="num_keys"):
        scaling_experiment([16], num_keys=1)
