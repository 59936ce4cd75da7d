using System.Globalization;
using HpcCnn.Problems;
using HpcCnn.Reference;

namespace HpcCnn.Verification;

/// <summary>The outcome of running one problem on one backend against the oracle.</summary>
public sealed record CheckResult
{
    /// <summary>The problem in text form: paste it into <c>hpccnn check</c> to replay.</summary>
    public required string Problem { get; init; }
    public required string Backend { get; init; }
    public required string Algorithm { get; init; }
    public required string Isa { get; init; }
    public required FillKind Fill { get; init; }
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
    /// <summary>The elements after the output span were left untouched.</summary>
    public required bool GuardIntact { get; init; }

    public bool Passed => Mismatches == 0 && GuardIntact;

    /// <summary>One line that says what failed and how to replay it.</summary>
    public string Describe()
    {
        var what = Passed
            ? "passed"
            : !GuardIntact
                ? "wrote past the end of the output"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{Mismatches} of {Outputs} outputs {(BitExactRequired ? "differ" : "outside tolerance")}, first at {FirstMismatch}: got {FirstMismatchActual:R}, oracle {FirstMismatchExpected:R}");
        return $"{Problem} on {Backend} ({Algorithm}, {Isa}, {Fill} fill): {what}; replay with: hpccnn check '{Problem}'";
    }
}

/// <summary>
/// Runs a problem on a backend and on the oracle with the same seeded data and compares:
/// bit for bit on integer fills, by the <see cref="Tolerance"/> rule on real fills. The output
/// span starts as NaN (so an unwritten output fails) and is followed by guard elements that must
/// stay untouched.
/// </summary>
public static class CrossCheck
{
    private const int GuardLength = 64;
    private const float GuardValue = -7.77e7f;

    /// <summary>One backend; see <see cref="Conv(IReadOnlyList{Backend}, ConvProblem, FillKind, int, Tolerance?)"/>.</summary>
    public static CheckResult Conv(Backend backend, ConvProblem problem, FillKind fill, int seed, Tolerance? tolerance = null) =>
        Conv([backend], problem, fill, seed, tolerance)[0];

    /// <summary>Every backend against one oracle run: the data and the oracle's result are made once.</summary>
    public static IReadOnlyList<CheckResult> Conv(IReadOnlyList<Backend> backends, ConvProblem problem, FillKind fill, int seed, Tolerance? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(problem);
        problem.Validate();
        var random = new Random(seed);
        var x = Fill.Values(problem.InputLength, fill, random, 0.25f);
        var w = Fill.Values(problem.WeightsLength, fill, random, 0.125f);
        var b = Fill.Values(problem.BiasLength, fill, random, 0.5f);
        var expected = new double[problem.OutputLength];
        var magnitude = new double[problem.OutputLength];
        int outPlane = (int)(problem.OutHeight * problem.OutWidth);
        Parallel.For(0, (long)problem.Batch * problem.OutChannels, plane =>
        {
            long n = plane / problem.OutChannels, k = plane % problem.OutChannels;
            ReferenceKernels.ConvPlane(problem, x, w, b, n, k,
                expected.AsSpan((int)(plane * outPlane), outPlane), magnitude.AsSpan((int)(plane * outPlane), outPlane));
        });
        return backends.Select(backend =>
        {
            using var plan = backend.CreateConvPlan(problem, w, b);
            return Compare(problem.ToString(), backend, plan.Algorithm, plan.Isa, fill, fill == FillKind.SmallIntegers,
                tolerance ?? Tolerance.Default, expected, magnitude, output => plan.Run(x, output));
        }).ToList();
    }

    /// <summary>One backend; see <see cref="Pool(IReadOnlyList{Backend}, PoolProblem, FillKind, int, Tolerance?)"/>.</summary>
    public static CheckResult Pool(Backend backend, PoolProblem problem, FillKind fill, int seed, Tolerance? tolerance = null) =>
        Pool([backend], problem, fill, seed, tolerance)[0];

    /// <summary>Every backend against one oracle run.</summary>
    public static IReadOnlyList<CheckResult> Pool(IReadOnlyList<Backend> backends, PoolProblem problem, FillKind fill, int seed, Tolerance? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(problem);
        problem.Validate();
        var x = Fill.Values(problem.InputLength, fill, new Random(seed), 0.25f);
        var expected = new double[problem.OutputLength];
        var magnitude = new double[problem.OutputLength];
        long outPlane = problem.OutHeight * problem.OutWidth;
        Parallel.For(0, (long)problem.Batch * problem.Channels, plane =>
        {
            for (long oh = 0; oh < problem.OutHeight; oh++)
                for (long ow = 0; ow < problem.OutWidth; ow++)
                {
                    long i = plane * outPlane + oh * problem.OutWidth + ow;
                    expected[i] = ReferenceKernels.Pool(problem, x, plane, oh, ow, out magnitude[i]);
                }
        });
        // Sums of integer fills are exact and one correctly rounded division follows, so averages are exact too.
        return backends.Select(backend =>
        {
            using var plan = backend.CreatePoolPlan(problem);
            return Compare(problem.ToString(), backend, plan.Algorithm, plan.Isa, fill, fill == FillKind.SmallIntegers,
                tolerance ?? Tolerance.Default, expected, magnitude, output => plan.Run(x, output));
        }).ToList();
    }

    public static CheckResult Eltwise(Backend backend, EltwiseOp op, float alpha, int length, FillKind fill, int seed, Tolerance? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var x = Fill.Values(length, fill, new Random(seed), 0.25f);
        var expected = new double[length];
        var magnitude = new double[length];
        for (int i = 0; i < length; i++)
        {
            expected[i] = ReferenceKernels.Eltwise(op, alpha, x[i]);
            magnitude[i] = Math.Abs(x[i]);
        }
        // ReLU and LeakyReLU of exact values are exact (x·alpha fits a double exactly); tanh and sigmoid are not.
        bool exact = fill == FillKind.SmallIntegers && op is EltwiseOp.Relu or EltwiseOp.LeakyRelu;
        var name = string.Create(CultureInfo.InvariantCulture, $"eltwise {op.ToString().ToLowerInvariant()}{(op == EltwiseOp.LeakyRelu ? $":{alpha}" : "")} n={length}");
        return Compare(name, backend, backend.Name, "", fill, exact, tolerance ?? Tolerance.Default, expected, magnitude,
            output => backend.Eltwise(op, x, output, alpha));
    }

    private static CheckResult Compare(string problem, Backend backend, string algorithm, string isa, FillKind fill, bool bitExact,
        Tolerance tolerance, double[] expected, double[] magnitude, SpanAction run)
    {
        var buffer = new float[expected.Length + GuardLength];
        buffer.AsSpan(0, expected.Length).Fill(float.NaN);
        buffer.AsSpan(expected.Length).Fill(GuardValue);
        run(buffer.AsSpan(0, expected.Length));

        long mismatches = 0, first = -1, nonZero = 0;
        double maxAbs = 0, maxRatio = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float actual = buffer[i];
            // Exact comparisons are against the oracle rounded to float, the best a float result can be.
            double error = Math.Abs(actual - (bitExact ? (float)expected[i] : expected[i]));
            double ratio = error / tolerance.Bound(magnitude[i]);
            bool ok = bitExact ? actual == (float)expected[i] : tolerance.Accepts(actual, expected[i], magnitude[i]);
            if (!ok && mismatches++ == 0) first = i;
            if (expected[i] != 0) nonZero++;
            maxAbs = double.IsNaN(error) ? double.NaN : Math.Max(maxAbs, error);
            maxRatio = double.IsNaN(ratio) ? double.NaN : Math.Max(maxRatio, ratio);
        }
        bool guardIntact = buffer.AsSpan(expected.Length).IndexOfAnyExcept(GuardValue) < 0;
        return new CheckResult
        {
            Problem = problem,
            Backend = backend.ToString(),
            Algorithm = algorithm,
            Isa = isa,
            Fill = fill,
            BitExactRequired = bitExact,
            Outputs = expected.Length,
            Mismatches = mismatches,
            FirstMismatch = first,
            FirstMismatchActual = first >= 0 ? buffer[first] : 0f,
            FirstMismatchExpected = first >= 0 ? expected[first] : 0.0,
            MaxAbsError = maxAbs,
            MaxErrorOverBound = maxRatio,
            NonZeroFraction = expected.Length == 0 ? 0 : (double)nonZero / expected.Length,
            GuardIntact = guardIntact,
        };
    }

    private delegate void SpanAction(Span<float> output);
}
