namespace HpcCnn.Verification;

/// <summary>How test data is filled.</summary>
public enum FillKind
{
    /// <summary>
    /// Non-zero integers in [−4, 4] times a power of two: every product and partial sum is exact
    /// in float32, so any summation order gives the same bits and results compare bit for bit
    /// (benchdnn's trick).
    /// </summary>
    SmallIntegers,
    /// <summary>Uniform reals in [−1, 1): compared with the tolerance rule.</summary>
    Real,
    /// <summary>
    /// <see cref="SmallIntegers"/> with about √n/3 of n elements replaced by NaN, +∞ or −∞: checks
    /// that every backend follows the header's rule for non-finite values (NaN propagates; ∞
    /// follows IEEE arithmetic). An output the oracle makes NaN must be NaN (any payload), an
    /// infinite one the same infinity; the finite ones compare as for integer fills.
    /// </summary>
    NonFinite,
}

/// <summary>Seeded test data.</summary>
public static class Fill
{
    /// <summary>Fills <paramref name="data"/>; <paramref name="scale"/> (a power of two) multiplies integer fills.</summary>
    public static void Values(Span<float> data, FillKind kind, Random random, float scale = 1f)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = kind == FillKind.Real
                ? (float)(random.NextDouble() * 2.0 - 1.0)
                : random.Next(1, 5) * (random.Next(2) == 0 ? -scale : scale);
        }
        if (kind == FillKind.NonFinite) SprinkleNonFinite(data, random);
    }

    /// <summary>
    /// Replaces about √n/3 of the n elements by NaN, +∞ or −∞ (at least one where there are
    /// elements): sparse enough that long reductions still leave finite outputs to compare.
    /// </summary>
    public static void SprinkleNonFinite(Span<float> data, Random random)
    {
        ReadOnlySpan<float> specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        int count = data.IsEmpty ? 0 : Math.Max(1, (int)Math.Sqrt(data.Length) / 3);
        for (int i = 0; i < count; i++) data[random.Next(data.Length)] = specials[random.Next(specials.Length)];
    }

    /// <summary>Whether the fill's finite values are small integers, whose sums are exact in float32.</summary>
    public static bool IsInteger(this FillKind kind) => kind is FillKind.SmallIntegers or FillKind.NonFinite;

    public static float[] Values(long length, FillKind kind, Random random, float scale = 1f)
    {
        var data = new float[checked((int)length)];
        Values(data, kind, random, scale);
        return data;
    }
}
