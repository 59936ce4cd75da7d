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
}

/// <summary>Seeded test data.</summary>
public static class Fill
{
    /// <summary>Fills <paramref name="data"/>; <paramref name="scale"/> (a power of two) multiplies integer fills.</summary>
    public static void Values(Span<float> data, FillKind kind, Random random, float scale = 1f)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = kind == FillKind.SmallIntegers
                ? random.Next(1, 5) * (random.Next(2) == 0 ? -scale : scale)
                : (float)(random.NextDouble() * 2.0 - 1.0);
        }
    }

    public static float[] Values(long length, FillKind kind, Random random, float scale = 1f)
    {
        var data = new float[checked((int)length)];
        Values(data, kind, random, scale);
        return data;
    }
}
