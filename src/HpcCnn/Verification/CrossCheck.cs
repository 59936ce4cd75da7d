using System.Globalization;
using HpcCnn.Problems;

namespace HpcCnn.Verification;

/// <summary>The outcome of one output of one problem on one backend against the oracle.</summary>
public sealed record CheckResult
{
    /// <summary>The problem in text form: paste it into <c>hpccnn check</c> to replay.</summary>
    public required string Problem { get; init; }
    public required string Backend { get; init; }
    public required string Algorithm { get; init; }
    public required string Isa { get; init; }
    public required FillKind Fill { get; init; }
    /// <summary>Which output was compared: DST, DIFF_SRC, DIFF_WEIGHTS, DIFF_BIAS or WORKSPACE.</summary>
    public string Output { get; init; } = "DST";
    /// <summary>Outputs had to equal the oracle's exactly (integer fills of exact algorithms).</summary>
    public required bool BitExactRequired { get; init; }
    public required long Outputs { get; init; }
    public required long Mismatches { get; init; }
    /// <summary>Index of the first output outside the tolerance, or −1.</summary>
    public required long FirstMismatch { get; init; }
    public required float FirstMismatchActual { get; init; }
    public required double FirstMismatchExpected { get; init; }
    public required double MaxAbsError { get; init; }
    /// <summary>Largest |y − y_ref| / (Absolute + Relative·Σ|terms|): at most 1 passes the tolerance rule.</summary>
    public required double MaxErrorOverBound { get; init; }
    /// <summary>Share of non-zero oracle outputs; a mostly zero result says little (benchdnn flags it).</summary>
    public required double NonZeroFraction { get; init; }
    /// <summary>How many oracle outputs are NaN or infinite (non-zero only for <see cref="FillKind.NonFinite"/> and overflow).</summary>
    public long NonFiniteExpected { get; init; }
    /// <summary>The elements after the output span were left untouched.</summary>
    public required bool GuardIntact { get; init; }

    public bool Passed => Mismatches == 0 && GuardIntact;

    /// <summary>One line that says what failed and how to replay it.</summary>
    public string Describe()
    {
        var what = Passed
            ? "passed"
            : !GuardIntact
                ? $"wrote past the end of {Output}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{Mismatches} of {Outputs} {Output} values {(BitExactRequired ? "differ" : "outside tolerance")}, first at {FirstMismatch}: got {FirstMismatchActual:R}, oracle {FirstMismatchExpected:R}");
        return $"{Problem} on {Backend} ({Algorithm}, {Isa}, {Fill} fill): {what}; replay with: hpccnn check -- '{Problem}'";
    }
}

/// <summary>One output the oracle computed: its role, values and the magnitudes of their reductions.</summary>
public sealed record Expected(string Output, double[] Values, double[] Magnitude, bool BitExact);

/// <summary>
/// Compares a backend's outputs with the oracle's: bit for bit on integer fills of exact
/// computations, by the <see cref="Tolerance"/> rule otherwise. Output buffers start as NaN (so
/// an unwritten output fails) and are followed by guard elements that must stay untouched.
/// </summary>
public static class CrossCheck
{
    private const int GuardLength = 64;
    private const float GuardValue = -7.77e7f;

    /// <summary>An output buffer of <paramref name="length"/> elements filled with NaN, and its guard after them.</summary>
    public static float[] OutputBuffer(long length)
    {
        var buffer = new float[checked((int)length + GuardLength)];
        buffer.AsSpan(0, (int)length).Fill(float.NaN);
        buffer.AsSpan((int)length).Fill(GuardValue);
        return buffer;
    }

    /// <summary>The output part of a buffer from <see cref="OutputBuffer"/>.</summary>
    public static Span<float> Body(float[] buffer) => buffer.AsSpan(0, buffer.Length - GuardLength);

    /// <summary>Compares one output buffer (from <see cref="OutputBuffer"/>) with the oracle's values.</summary>
    public static CheckResult Compare(string problem, Backend backend, Plan plan, FillKind fill, Tolerance tolerance, Expected expected, float[] buffer)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(plan);
        var values = expected.Values;
        bool bitExact = expected.BitExact;
        long mismatches = 0, first = -1, nonZero = 0, nonFinite = 0;
        double maxAbs = 0, maxRatio = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float actual = buffer[i];
            // Exact comparisons are against the oracle rounded to float, the best a float result can be.
            bool ok = !double.IsFinite(values[i])
                ? double.IsNaN(values[i]) ? float.IsNaN(actual) : actual == values[i] // NaN with any payload; the same infinity
                : bitExact ? actual == (float)values[i] : tolerance.Accepts(actual, values[i], expected.Magnitude[i]);
            double error = ok && !double.IsFinite(values[i]) ? 0 : Math.Abs(actual - (bitExact ? (float)values[i] : values[i]));
            double ratio = error == 0 ? 0 : error / tolerance.Bound(expected.Magnitude[i]);
            if (!ok && mismatches++ == 0) first = i;
            if (values[i] != 0) nonZero++;
            if (!double.IsFinite(values[i])) nonFinite++;
            maxAbs = double.IsNaN(error) ? double.NaN : Math.Max(maxAbs, error);
            maxRatio = double.IsNaN(ratio) ? double.NaN : Math.Max(maxRatio, ratio);
        }
        bool guardIntact = buffer.AsSpan(values.Length).IndexOfAnyExcept(GuardValue) < 0;
        return new CheckResult
        {
            Problem = problem,
            Backend = backend.ToString(),
            Algorithm = plan.Algorithm,
            Isa = plan.Isa,
            Fill = fill,
            Output = expected.Output,
            BitExactRequired = bitExact,
            Outputs = values.Length,
            Mismatches = mismatches,
            FirstMismatch = first,
            FirstMismatchActual = first >= 0 ? buffer[first] : 0f,
            FirstMismatchExpected = first >= 0 ? values[first] : 0.0,
            MaxAbsError = maxAbs,
            MaxErrorOverBound = maxRatio,
            NonZeroFraction = values.Length == 0 ? 0 : (double)nonZero / values.Length,
            NonFiniteExpected = nonFinite,
            GuardIntact = guardIntact,
        };
    }

    /// <summary>Every backend against one oracle run of the problem in its direction (see <see cref="Operation.Check"/>).</summary>
    public static IReadOnlyList<CheckResult> Run(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return problem.Operation.Check(backends, problem, fill, seed, tolerance ?? Tolerance.Default);
    }

    /// <summary>One backend; see <see cref="Run(IReadOnlyList{Backend}, Problem, FillKind, int, Tolerance?)"/>.</summary>
    public static IReadOnlyList<CheckResult> Run(Backend backend, Problem problem, FillKind fill, int seed, Tolerance? tolerance = null) =>
        Run([backend], problem, fill, seed, tolerance);

    /// <summary>
    /// Whether a fill keeps a computation exact: integer fills are, unless a factor that is not a
    /// power of two (a LeakyReLU slope such as 0.1) enters before a sum.
    /// </summary>
    public static bool IsPowerOfTwoOrZero(float value) =>
        value == 0f || (float.IsFinite(value) && (BitConverter.SingleToInt32Bits(value) & 0x7FFFFF) == 0);
}
