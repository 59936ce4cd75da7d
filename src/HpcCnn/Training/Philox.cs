namespace HpcCnn.Training;

/// <summary>
/// Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
/// SC 2011), the counter-based generator behind dropout: four 32-bit words from a 128-bit counter
/// and a 64-bit key, with no state in between. The native library (core/philox.h) and the OpenCL
/// kernels (training.cl) compute the same rounds.
/// </summary>
public static class Philox
{
    /// <summary>Ten rounds of Philox4x32 on <paramref name="counter"/> with <paramref name="key"/>.</summary>
    public static (uint, uint, uint, uint) Generate((uint, uint, uint, uint) counter, (uint, uint) key)
    {
        var (c0, c1, c2, c3) = counter;
        var (k0, k1) = key;
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = 0xD2511F53UL * c0, p1 = 0xCD9E8D57UL * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>
    /// The uniform number in [0, 1) (24 bits) that decides element <paramref name="index"/> at
    /// <paramref name="step"/>: word index % 4 of Philox with key (seed low, seed high) and counter
    /// (index / 4 low, high, step low, high).
    /// </summary>
    public static float DropoutUniform(ulong seed, long step, long index)
    {
        ulong block = (ulong)index / 4, s = (ulong)step;
        var words = Generate(((uint)block, (uint)(block >> 32), (uint)s, (uint)(s >> 32)), ((uint)seed, (uint)(seed >> 32)));
        uint word = (index % 4) switch { 0 => words.Item1, 1 => words.Item2, 2 => words.Item3, _ => words.Item4 };
        return (word >> 8) * (1.0f / 16777216.0f);
    }
}
