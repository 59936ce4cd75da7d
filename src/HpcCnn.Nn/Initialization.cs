using HpcCnn.Training;

namespace HpcCnn.Nn;

/// <summary>
/// Starting weights, reproducible from a seed on every machine: uniform numbers from Philox
/// (parameter index as the counter's step, element index as its position), scaled as He et al.
/// (bound √(6 / fan-in), for layers feeding ReLU or LeakyReLU) or Glorot and Bengio ("Xavier",
/// bound √(6 / (fan-in + fan-out)), otherwise); biases start at zero.
/// </summary>
public static class Initialization
{
    /// <summary>Whether a layer followed by <paramref name="next"/> is initialised the He way.</summary>
    public static bool UsesHe(Layer? next) => next is ReLU or LeakyReLU;

    /// <summary>Fills <paramref name="values"/> uniformly in (−bound, bound).</summary>
    public static void Uniform(Span<float> values, double bound, ulong seed, long stream)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)((2.0 * Philox.DropoutUniform(seed, stream, i) - 1.0) * bound);
    }

    internal static double HeBound(long fanIn) => Math.Sqrt(6.0 / fanIn);

    internal static double XavierBound(long fanIn, long fanOut) => Math.Sqrt(6.0 / (fanIn + fanOut));

    /// <summary>SplitMix64's finaliser: independent keys from one seed (per layer, per use).</summary>
    internal static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
