using HpcCnn.Problems;

namespace HpcCnn.Tests;

/// <summary>
/// The header's rule for non-finite values, on every backend and code path: NaN propagates
/// (max pooling and ReLU included), infinities follow IEEE arithmetic, and zero padding is read
/// like any input (a non-finite weight over padding makes that output NaN). Inputs, weights and
/// gradients carry NaN, +∞ and −∞ (<see cref="FillKind.NonFinite"/>); an output the oracle makes
/// NaN must be NaN, an infinite one the same infinity, the finite ones exactly the oracle's.
/// </summary>
public class NonFiniteTests
{
    /// <summary>Random problems per kind: enough to reach every algorithm with NaN and ∞ in the padding, the windows and the sums.</summary>
    private const int RandomCount = 40;

    private static readonly string[] ForwardKinds = ["conv FWD_I", "pool FWD_I", "ip FWD_I", "eltwise FWD_I", "eltwise BWD_D"];

    private static Problem RandomProblem(string kind, int seed) => kind switch
    {
        "conv FWD_I" => RandomProblems.Conv(seed),
        "pool FWD_I" => RandomProblems.Pool(seed),
        "ip FWD_I" => RandomProblems.Dense(seed),
        "eltwise FWD_I" => RandomProblems.Eltwise(seed),
        "eltwise BWD_D" => RandomProblems.Eltwise(seed) with { Direction = Direction.BackwardData },
        _ => BackwardCrossBackendTests.RandomProblem(kind, seed),
    };

    public static IEnumerable<object[]> RandomCases() =>
        ForwardKinds.Concat(BackwardCrossBackendTests.Kinds)
            .SelectMany(kind => Enumerable.Range(0, RandomCount).Select(seed => new object[] { kind, seed }));

    public static IEnumerable<object[]> EdgeCases() =>
        ((IEnumerable<object[]>)ConvCrossBackendTests.EdgeCases).Concat((IEnumerable<object[]>)PoolCrossBackendTests.EdgeCases)
            .Concat(BackwardCrossBackendTests.EdgeCases());

    private static IReadOnlyList<CheckResult> Check(Problem problem, int seed)
    {
        var (backends, _) = TestBackends.Everything();
        var results = CrossCheck.Run(backends, problem, FillKind.NonFinite, seed);
        TestBackends.AssertAllPassed(results);
        return results;
    }

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Random_problem_follows_the_rule_on_every_backend(string kind, int seed) => Check(RandomProblem(kind, seed), seed);

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Edge_case_follows_the_rule_on_every_backend(string descriptor) => Check(ProblemSuite.Parse([descriptor]).Single(), 7);

    /// <summary>The cases the rule was written for, each of which once differed between backends or from the oracle.</summary>
    [Theory]
    [InlineData("--pool --alg=max mb1ic1ih3iw20kh3kw3sh1ph1")] // NaN after a finite value in a window: AVX-512 once gave −∞
    [InlineData("--pool --dir=FWD_D --alg=max mb2ic16ih9iw40kh2kw2sh2sw2")] // the 2×2 argmax path: the first NaN wins
    [InlineData("--pool --dir=FWD_D --alg=max mb2ic5ih13kh3sh2ph1")]
    [InlineData("--pool --alg=max mb2ic64ih17kh3sh2")] // 3×3 stride 2
    [InlineData("--eltwise --alg=relu 4099")] // ReLU(NaN) was 0 on Cpu and OpenCL
    [InlineData("--dir=FWD_I --attr-post-ops=relu mb2ic3ih9oc20kh3ph1")] // fused ReLU
    [InlineData("mb2ic1ih12oc4kh5ph2")] // padding taps: direct paths skip them, GEMM paths multiply them
    [InlineData("mb1ic16ih14oc32kh3ph1")]
    [InlineData("g16mb2ic16ih20oc16kh3ph1")] // depthwise
    [InlineData("mb2ic17ih9oc33kh3sh2ph1dh2")]
    [InlineData("--dir=BWD_WB mb1ic3ih11oc8kh3ph1")] // an infinite dL/dy at the border times zero padding
    [InlineData("--dir=BWD_WB mb1ic8ih12oc16kh5ph2")]
    [InlineData("--dir=BWD_WB g8mb1ic8ih12oc8kh3ph1")]
    [InlineData("--dir=BWD_D mb3ic16ih12oc24kh3ph1")]
    [InlineData("--dir=BWD_D mb2ic8ih13oc6kh3sh2ph1")]
    [InlineData("mb16ic1ih12oc4kh5ph2")] // images in lanes, forward: padding times an infinite weight
    [InlineData("--attr-post-ops=relu mb17ic3ih9oc7kh3ph1")]
    [InlineData("--dir=BWD_D mb16ic6ih14oc16kh5")] // images in lanes: padding columns times an infinite weight
    [InlineData("--dir=BWD_D --attr-post-ops=relu mb17ic3ih10oc8kh5ph2")]
    [InlineData("--softmax --dir=FWD_D 6x10")]
    public void Known_case_follows_the_rule_on_every_backend(string descriptor)
    {
        var results = Check(ProblemSuite.Parse([descriptor]).Single(), 3);
        // Not vacuous: the oracle's outputs hold non-finite values, and (but for softmax rows) finite ones too.
        Assert.Contains(results, r => r.NonFiniteExpected > 0);
        if (!descriptor.StartsWith("--softmax", StringComparison.Ordinal)) Assert.Contains(results, r => r.NonFiniteExpected < r.Outputs);
    }

    /// <summary>
    /// The weights gradient over 16 or more images (the AVX-512 kernel that puts images in the
    /// lanes): one infinite dL/dy at a corner of one image's first channel, everything else finite.
    /// Each backend gives the oracle's NaN (the taps that read padding there), infinities and finite
    /// values (the other channels), element by element: the sprinkled fill makes every weight's sum
    /// non-finite at this batch size.
    /// </summary>
    [Theory]
    [InlineData("--dir=BWD_WB mb16ic1ih6oc2kh3ph1")]
    [InlineData("--dir=BWD_WB mb17ic2ih7oc3kh5ph2")]
    public void Weights_gradient_over_many_images_keeps_the_rule(string descriptor)
    {
        var problem = ConvProblem.Parse(descriptor);
        var random = new Random(5);
        var x = Fill.Values(problem.InputLength, FillKind.SmallIntegers, random);
        var dy = Fill.Values(problem.OutputLength, FillKind.SmallIntegers, random);
        dy[(int)(3 * problem.OutChannels * problem.OutHeight * problem.OutWidth)] = float.PositiveInfinity; // image 3, channel 0, corner (0, 0)
        float[] Gradient(Backend backend)
        {
            using var plan = backend.CreateConvPlan(problem);
            var dw = new float[problem.WeightsLength];
            plan.BackwardWeights(x, dy, dw, new float[problem.OutChannels]);
            return dw;
        }
        var expected = Gradient(Backend.Reference);
        Assert.Contains(expected, float.IsNaN); // padding times the infinity
        Assert.Contains(expected, float.IsInfinity); // the taps that read the image there
        Assert.Contains(expected, float.IsFinite); // the other output channels
        var (backends, _) = TestBackends.Everything();
        foreach (var backend in backends)
        {
            var actual = Gradient(backend);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : actual[i] == expected[i],
                    $"{backend}: dw[{i}] = {actual[i]}, the oracle's {expected[i]}");
        }
    }

    [Fact]
    public void Max_pooling_and_relu_propagate_nan_and_keep_infinities()
    {
        // One 1x1x1x8 row, max pooling of width 2 stride 2 and ReLU, checked against the rule written out by hand.
        float nan = float.NaN, inf = float.PositiveInfinity;
        float[] x = [1f, nan, nan, 2f, -inf, 3f, -inf, -inf];
        var pool = PoolProblem.Parse("--alg=max mb1ic1ih1iw8kh1kw2sh1sw2");
        var (backends, _) = TestBackends.Everything();
        foreach (var backend in backends.Prepend(Backend.Reference))
        {
            using var plan = backend.CreatePoolPlan(pool with { Direction = Direction.ForwardTraining });
            var y = new float[4];
            var argmax = new int[4];
            plan.Forward(x, y, argmax);
            Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[1]), $"{backend}: {string.Join(", ", y)}");
            Assert.Equal([3f, float.NegativeInfinity], y[2..]);
            Assert.Equal([1, 2, 5, 6], argmax); // the NaN in each window; ties keep the first element

            var relu = new float[3];
            backend.Eltwise(Activation.Relu, [nan, -inf, inf], relu);
            Assert.True(float.IsNaN(relu[0]), $"{backend}: ReLU(NaN) = {relu[0]}");
            Assert.Equal([0f, inf], relu[1..]);
        }
    }
}

/// <summary><c>hpccnn check --fill</c> runs the same checks from the command line, on any machine's backends.</summary>
public class CheckFillOptionTests
{
    [Fact]
    public void Check_with_the_nonfinite_fill_compares_every_output_under_the_rule()
    {
        var (exitCode, output) = CliRunner.Run(null, "check", "--backend", "cpu", "--fill", "nonfinite", "--", "--pool --dir=FWD_D --alg=max mb2ic5ih13kh3sh2ph1",
            "--dir=BWD_WB mb1ic3ih11oc8kh3ph1");
        Assert.True(exitCode == 0, output);
        Assert.Contains("nonfinite", output);
        Assert.Contains("checks passed (2 problems", output);
    }

    [Fact]
    public void An_unknown_fill_is_refused_with_the_names_it_takes()
    {
        var (exitCode, output) = CliRunner.Run(null, "check", "--fill", "integer,random", "mb1ic2ih5oc2kh3");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("integer, real and nonfinite", output);
    }
}
