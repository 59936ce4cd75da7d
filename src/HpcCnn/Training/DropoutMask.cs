namespace HpcCnn.Training;

/// <summary>
/// Inverted dropout: during training each element is kept with probability 1 − <see cref="Rate"/>
/// and scaled by 1 / (1 − Rate), so inference needs no rescaling. Whether element i is kept at
/// training step s is Philox4x32-10 of (seed, s, i) — see <see cref="Philox"/> — so every backend,
/// at any thread count, draws the same mask, and the backward pass recomputes it instead of
/// storing it. DropConnect is the same mask on a dense layer's weights (and on their gradient).
/// </summary>
/// <param name="Rate">The probability of dropping an element, in [0, 1).</param>
/// <param name="Seed">The generator's key; a training run keeps one and counts steps.</param>
public sealed record DropoutMask(float Rate, ulong Seed)
{
    /// <summary>The factor kept elements are multiplied by: 1 / (1 − Rate), in float.</summary>
    public float Scale => 1.0f / (1.0f - Rate);

    /// <exception cref="ArgumentOutOfRangeException">Rate is not in [0, 1).</exception>
    public void Validate()
    {
        if (!(Rate >= 0f && Rate < 1f)) throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "the dropout rate must be in [0, 1)");
    }

    /// <summary>Whether element <paramref name="index"/> is kept at <paramref name="step"/>.</summary>
    public bool Keeps(long step, long index) => Philox.DropoutUniform(Seed, step, index) >= Rate;
}
