"""Pure tones in and out of WAV files, for the call tests: each side sends its own frequency, and
what a side recorded must peak at the other side's."""
import math
import struct
import wave


def write_tone(path, freq, seconds=4.0, rate=48000, amplitude=0.5):
    """A mono 16-bit WAV of a sine at `freq` Hz."""
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * freq * i / rate)))
                      for i in range(n))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def read_samples(path):
    """(rate, mono samples as floats in -1..1) of a 16-bit WAV; the first channel if several."""
    with wave.open(path, "rb") as w:
        rate, channels, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    if width != 2:
        raise ValueError("%s: %d-byte samples, expected 2" % (path, width))
    values = struct.unpack("<%dh" % (len(raw) // 2), raw)
    return rate, [v / 32768.0 for v in values[::channels]]


def power_at(samples, rate, freq):
    """Goertzel: the signal's power at `freq`, normalised by length."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / max(1, len(samples))


def loudest(path, candidates, skip_seconds=0.5, max_seconds=3.0):
    """Of `candidates` (Hz), the one with the most power in the recording, and {freq: power}. The
    first `skip_seconds` are left out (the start of a call may be silence)."""
    rate, samples = read_samples(path)
    part = samples[int(skip_seconds * rate):int((skip_seconds + max_seconds) * rate)]
    powers = {f: power_at(part, rate, f) for f in candidates}
    return max(powers, key=powers.get), powers
