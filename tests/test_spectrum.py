import numpy as np
import pytest

from dfkit.metrics.spectrum import radial_power_spectrum


def test_white_noise_is_flat_at_its_variance():
    noise = np.random.default_rng(0).normal(scale=2.0, size=(200, 1, 32, 32))
    frequencies, power = radial_power_spectrum(noise)
    assert frequencies[0] == pytest.approx(1 / 32) and frequencies[-1] == pytest.approx(0.5)
    np.testing.assert_allclose(power, 4.0, rtol=0.1)


def test_a_plane_wave_puts_its_power_at_its_frequency():
    rows = np.arange(32)[:, None] * np.ones((1, 32))
    wave = np.cos(2 * np.pi * 5 * rows / 32)
    frequencies, power = radial_power_spectrum(wave)
    assert frequencies[np.argmax(power)] == pytest.approx(5 / 32)


def test_digits_have_falling_spectra_and_noise_drowns_high_frequencies_first():
    from dfkit.data.digits import load_digits

    digits = load_digits("test")[0][:300].astype(np.float64) / 255 * 2 - 1
    frequencies, clean = radial_power_spectrum(digits)
    assert clean[1] > 10 * clean[-1]                                       # power law-like decay
    noise = np.random.default_rng(1).normal(size=digits.shape)
    alpha_bar = 0.5
    _, noisy = radial_power_spectrum(np.sqrt(alpha_bar) * digits + np.sqrt(1 - alpha_bar) * noise)
    signal_to_noise = alpha_bar * clean / (1 - alpha_bar)
    assert signal_to_noise[0] > 1 > signal_to_noise[-1]                    # low frequencies survive, high ones drown
    np.testing.assert_allclose(noisy, alpha_bar * clean + (1 - alpha_bar), rtol=0.15)


def test_rejects_non_square():
    with pytest.raises(ValueError, match="square images"):
        radial_power_spectrum(np.zeros((2, 8, 6)))
