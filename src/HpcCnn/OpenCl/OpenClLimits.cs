namespace HpcCnn.OpenCl;

/// <summary>The OpenCL kernels index with 32-bit integers: sizes beyond that are refused as bad arguments, never narrowed.</summary>
internal static class OpenClLimits
{
    /// <exception cref="ArgumentException"><paramref name="value"/> does not fit an int.</exception>
    public static int ToInt(long value, object problem, string what) =>
        value is >= 0 and <= int.MaxValue
            ? (int)value
            : throw new ArgumentException($"{problem} is too large for the OpenCL kernels: {what} ({value}) does not fit a 32-bit index", nameof(problem));
}
