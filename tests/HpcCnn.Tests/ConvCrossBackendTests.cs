using HpcCnn.Cpu;

namespace HpcCnn.Tests;

/// <summary>Every backend against the oracle on the suite, hand-picked edge cases and random problems.</summary>
public class ConvCrossBackendTests
{
    public static IEnumerable<object[]> SuiteProblems() =>
        TestBackends.Suite("conv_suite.txt").Select(p => new object[] { p.ToString() }); // the training suite has its own test

    /// <summary>Each case names the edge it covers.</summary>
    public static readonly TheoryData<string> EdgeCases = new()
    {
        "mb1ic1ih1oc1kh1n\"1x1 image, 1x1 kernel\"",
        "mb1ic3ih1oc5kh3ph1n\"1x1 image, padded 3x3 kernel\"",
        "mb3ic5ih7oc3kh3n\"odd batch\"",
        "mb1ic17ih9oc19kh3ph1n\"channels not multiples of 8 or 16\"",
        "mb2ic4ih10oc4kh2sh3n\"stride larger than kernel\"",
        "mb1ic3ih8oc4kh3ph2n\"padding above kernel/2\"",
        "mb1ic2ih5oc2kh1ph3n\"padding larger than kernel\"",
        "mb1ic3ih13oc4kh3dh1n\"dilation 2\"",
        "mb1ic3ih13oc4kh3ph3dh2n\"dilation 3\"",
        "g6mb1ic6ih9oc6kh3ph1n\"depthwise\"",
        "g6mb1ic6ih9oc12kh3ph1n\"depthwise, multiplier 2\"",
        "g16mb2ic16ih57oc16kh3sh2ph1n\"depthwise 3x3 stride 2, wide rows\"",
        "--attr-post-ops=relu g8mb1ic8ih40iw70oc8kh5kw5sh3sw3ph2pw2n\"depthwise 5x5 stride 3\"",
        "g4mb1ic4ih21iw37oc4kh3kw3sw2ph2pw2dh1dw1n\"depthwise dilated, column stride 2\"",
        "g3mb2ic9ih7oc6kh3n\"3 groups\"",
        // Depthwise 3x3 at stride 1, whose weights gradient rolls dz rows down the image: thin and padded shapes.
        "g4mb2ic4ih1oc4kh3ph1n\"depthwise 3x3, one-row image\"",
        "g4mb2ic4ih2iw40oc4kh3kw3ph2pw1dw2n\"depthwise 3x3, two rows, padding above the kernel's reach, column dilation 2\"",
        "g4mb2ic4ih40iw3oc4kh3kw3ph1pw2n\"depthwise 3x3, three columns, padding 2 on the sides\"",
        "g3mb1ic3ih17iw33oc3kh3kw3ph1pw1dw3n\"depthwise 3x3, column dilation 3\"",
        "g5mb2ic5ih17iw70oc5kh3kw3ph1pw1n\"depthwise 3x3 stride 1, five vectors per row, odd height\"",
        "--attr-post-ops=relu g4mb1ic4ih8iw40oc4kh3kw3n\"depthwise 3x3 stride 1, no padding, ReLU\"",
        "--attr-post-ops=relu:0.2 g3mb1ic3ih6iw33oc3kh3kw3ph2pw2n\"depthwise 3x3 stride 1, padding 2, LeakyReLU\"",
        "g2mb1ic2ih1oc2kh3ph1n\"depthwise 3x3 stride 1, 1x1 image\"",
        "mb1ic3ih9iw14oc4kh3kw5n\"asymmetric image and kernel\"",
        "mb1ic3ih15iw15oc4kh3kw3sw3n\"asymmetric stride\"",
        "mb1ic3ih9iw9oc4kh3kw3pw2n\"asymmetric padding\"",
        "mb1ic3ih12iw12oc4kh3kw2dh2n\"asymmetric dilation\"",
        "mb1ic1ih5oc1kh5n\"kernel as large as the image\"",
        "mb1ic1ih64iw1oc1kh3kw1ph1n\"one-column image\"",
        "mb1ic2ih3oc2kh3sh4ph1n\"stride larger than the image\"",
        "--attr-post-ops=relu mb2ic3ih6oc5kh3ph1n\"fused ReLU\"",
        "--attr-post-ops=relu:0.1 mb2ic3ih6oc5kh3ph1n\"fused LeakyReLU\"",
        "mb1ic1ih1oc64kh1n\"many outputs from one input\"",
        "mb1ic300ih2oc3kh2n\"long reduction\"",
        // Wide enough for the AVX-512 in-place path (B read from the window, padding columns dropped):
        "mb2ic5ih20oc11kh3ph1n\"in-place B, partial channel panel\"",
        "--attr-post-ops=relu:0.1 mb1ic40ih24oc17kh3ph1n\"in-place B, two reduction blocks, LeakyReLU\"",
        "mb1ic4ih9iw30oc5kh3kw1ph1n\"in-place B, one-column kernel\"",
        "mb3ic7ih17iw40oc9kh3kw3ph2pw2dh1dw1n\"in-place B, dilated, odd batch\"",
        "mb1ic16ih57oc20kh3sh2ph1n\"in-place B, stride 2\"",
        "mb2ic3ih67iw75oc8kh11kw11sh4sw4ph2pw2n\"in-place B, 11x11 stride 4\"",
        "mb1ic8ih20iw64oc6kh3kw3sw2ph1pw1n\"in-place B, column stride only\"",
        "--attr-post-ops=relu mb1ic8ih30iw70oc6kh3kw3sh2sw2ph2pw2dh1dw1n\"in-place B, strided and dilated\"",
        // Sixteen or more channels in and 32 or more out: the channel-blocked AVX-512 path.
        "mb1ic16ih1oc32kh3ph1n\"blocked, 1x1 image, one pixel per tile\"",
        "mb2ic30ih9iw13oc33kh3kw3ph1pw1n\"blocked, partial channel blocks, tiles across rows\"",
        "--attr-post-ops=relu:0.1 mb1ic32ih7oc80kh3ph2dh1n\"blocked, second output group of one block, dilated, LeakyReLU\"",
        "mb1ic16ih23iw19oc48kh5kw5sh2sw2ph2pw2n\"blocked, 5x5 stride 2, three output blocks\"",
        "mb1ic176ih6iw6oc32kh1kw1sw2n\"blocked, 1x1 column stride, two reduction chunks of channel blocks\"",
        "mb2ic48ih9oc64kh5ph2n\"blocked, 5x5: reduction chunks of kernel rows\"",
        "--attr-post-ops=relu mb1ic16ih150iw20oc32kh3kw3ph1pw1n\"blocked, tall image in several bands\"",
        "mb1ic16ih10oc32kh3sh4n\"blocked, stride leaves the last input columns unread\"",
        "mb1ic16ih5iw5oc32kh3kw3pw4n\"blocked, padding wider than the kernel\"",
        "mb1ic16ih1oc32kh1sh7ph3n\"blocked, the only output reads padding\"",
        "mb3ic64ih12oc256kh3ph1n\"blocked, four output groups\"",
        // Backward weights on AVX-512 tap tiles (24+ output channels per group): rows wider than a reduction block, a partial channel tile.
        "g2mb1ic16ih4iw600oc64kh3kw3ph1pw1n\"tap tiles, rows in pieces\"",
        "mb2ic5ih9oc56kh3sh2ph1dh1n\"tap tiles, partial 32-channel tile, strided and dilated\"",
        // Fewer channels (or too many to pad to blocks) with a reduction of 128 or more: plain rows.
        "mb2ic3ih20iw23oc40kh7kw7sh2sw2ph3pw3n\"plain, 7x7 stride 2, three output blocks\"",
        "mb1ic20ih9oc33kh3ph1n\"plain, 20 channels (blocks would waste 3/8)\"",
        "--attr-post-ops=relu mb1ic6ih17oc70kh5ph2dh1n\"plain, dilated, two output groups, ReLU\"",
        "mb1ic3ih67iw75oc64kh11kw11sh4sw4ph2pw2n\"plain, 11x11 stride 4\"",
        "mb1ic2ih30oc32kh13ph6n\"plain, 13x13: reduction chunks of kernel rows\"",
        "mb1ic8ih200iw9oc32kh5kw5ph2pw2n\"plain, tall image in several bands\"",
        // Asymmetric padding (TensorFlow "same" and ONNX pads), on each kernel family; oh/ow deduce the bottom/right side.
        "mb1ic3ih32oc16oh16kh7sh2n\"asymmetric: TensorFlow same 7x7 stride 2, 2 above and 3 below\"",
        "mb1ic16ih14oc32oh7kh3sh2n\"asymmetric: blocked, same stride 2, bottom and right only\"",
        "mb1ic3ih30oc40oh15kh7sh2n\"asymmetric: plain rows, same 7x7 stride 2\"",
        "g8mb1ic8ih10oc8oh10kh3ph0n\"asymmetric: depthwise 3x3 stride 1, two rows and columns below and right\"",
        "g8mb1ic8ih10iw20oc8ow20kh3kw3ph1pw2n\"asymmetric: depthwise 3x3 stride 1, two columns on the left only\"",
        "g8mb2ic8ih16oc8oh8kh3sh2n\"asymmetric: depthwise same stride 2\"",
        "mb2ic5ih20oc11oh20kh3ph0n\"asymmetric: in-place B, padding below and right only\"",
        "mb1ic8ih6oc8oh7kh1ph0n\"asymmetric: 1x1 with a padded row and column\"",
        "mb1ic3ih5iw6oc4oh9ow7kh3kw3ph3pw0n\"asymmetric: padding as large as the kernel on three sides, none on the left\"",
    };

    [Theory]
    [MemberData(nameof(SuiteProblems))]
    public void Suite_problem_matches_oracle(string descriptor) => CheckOnEveryBackend(ConvProblem.Parse(descriptor), seed: 7);

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Edge_case_matches_oracle(string descriptor) => CheckOnEveryBackend(ConvProblem.Parse(descriptor), seed: 11);

    [Theory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Random_problem_matches_oracle(int seed) => CheckOnEveryBackend(RandomProblems.Conv(seed), seed);

    [Theory]
    [MemberData(nameof(RandomProblems.WideSeeds), MemberType = typeof(RandomProblems))]
    public void Random_wide_problem_matches_oracle(int seed) => CheckOnEveryBackend(RandomProblems.WideConv(seed), seed);

    [SkippableFact]
    public void Wide_problems_and_edge_cases_exercise_both_direct_kernels()
    {
        Skip.IfNot(NativeLibraryInfo.BestIsa == "avx512", "the direct kernels need AVX-512; this CPU has " + NativeLibraryInfo.BestIsa);
        var problems = Enumerable.Range(0, RandomProblems.WideCount).Select(RandomProblems.WideConv)
            .Concat(((IEnumerable<object[]>)EdgeCases).Select(row => ConvProblem.Parse((string)row[0])));
        var chosen = problems.Select(problem =>
        {
            using var plan = TestBackends.Cpu.Value.CreateConvPlan(problem, new float[problem.WeightsLength]);
            if (problem.Name is { } name && (name.StartsWith("blocked") || name.StartsWith("plain")))
                Assert.True(plan.Algorithm.StartsWith("direct_" + name.Split(',')[0]), $"{problem} chose {plan.Algorithm}");
            return plan.Algorithm;
        }).ToList();
        Assert.True(chosen.Count(a => a == "direct_blocked_6x64_avx512") >= 30, "too few problems exercise direct_blocked_6x64_avx512");
        Assert.True(chosen.Count(a => a == "direct_plain_6x64_avx512") >= 10, $"only {chosen.Count(a => a == "direct_plain_6x64_avx512")} problems exercise direct_plain_6x64_avx512");
    }

    [Fact]
    public void Suite_outputs_are_mostly_non_zero_so_the_comparison_means_something()
    {
        foreach (var problem in TestBackends.Suite("conv_suite.txt").Cast<ConvProblem>())
        {
            var result = CrossCheck.Run(TestBackends.Cpu.Value, problem, FillKind.SmallIntegers, seed: 3).Single();
            Assert.True(result.NonZeroFraction > 0.5, $"{problem}: only {result.NonZeroFraction:P0} of the oracle's outputs are non-zero");
        }
    }

    [Fact]
    public void Results_are_bitwise_identical_for_any_thread_count()
    {
        var problems = new[] { "mb3ic5ih11oc7kh3ph1", "g4mb2ic8ih9oc8kh3sh2ph1", "mb1ic16ih14oc33kh5ph2", "mb2ic16ih30oc20kh3ph1", "mb1ic32ih40oc72kh3ph1" }.Select(ConvProblem.Parse);
        foreach (var problem in problems)
        {
            var random = new Random(5);
            var x = Fill.Values(problem.InputLength, FillKind.Real, random);
            var w = Fill.Values(problem.WeightsLength, FillKind.Real, random);
            var b = Fill.Values(problem.BiasLength, FillKind.Real, random);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 7 })
            {
                using var plan = new CpuBackend(new CpuBackendOptions { Threads = threads }).CreateConvPlan(problem, w, b);
                var y = new float[problem.OutputLength];
                plan.Run(x, y);
                first ??= y;
                Assert.True(first.AsSpan().SequenceEqual(y), $"{problem}: {threads} threads differ from 1 thread");
            }
        }
    }

    [Fact]
    public void Pooling_and_eltwise_are_bitwise_identical_for_any_thread_count()
    {
        var pools = new[] { "--alg=max mb4ic16ih28kh2sh2", "--alg=avg_np mb2ic32ih30kh3sh2ph1", "--alg=avg_p mb3ic8ih17iw23kh3kw5sh1sw3ph1pw2" };
        var x = Fill.Values(300000, FillKind.Real, new Random(6));
        foreach (var text in pools)
        {
            var problem = PoolProblem.Parse(text);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 7 })
            {
                using var plan = new CpuBackend(new CpuBackendOptions { Threads = threads }).CreatePoolPlan(problem);
                var y = new float[problem.OutputLength];
                plan.Run(x.AsSpan(0, (int)problem.InputLength), y);
                first ??= y;
                Assert.True(first.AsSpan().SequenceEqual(y), $"{problem}: {threads} threads differ from 1 thread");
            }
        }
        foreach (var op in Enum.GetValues<Activation>())
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 7 })
            {
                var y = new float[x.Length];
                new CpuBackend(new CpuBackendOptions { Threads = threads }).Eltwise(op, x, y, alpha: 0.3f);
                first ??= y;
                Assert.True(first.AsSpan().SequenceEqual(y), $"{op}: {threads} threads differ from 1 thread");
            }
        }
    }

    [Fact]
    public void Plans_can_run_concurrently_on_different_buffers()
    {
        var problem = ConvProblem.Parse("mb2ic8ih12oc8kh3ph1");
        var random = new Random(9);
        var w = Fill.Values(problem.WeightsLength, FillKind.Real, random);
        using var plan = TestBackends.Cpu.Value.CreateConvPlan(problem, w);
        var inputs = Enumerable.Range(0, 8).Select(_ => Fill.Values(problem.InputLength, FillKind.Real, random)).ToArray();
        var expected = inputs.Select(x =>
        {
            var y = new float[problem.OutputLength];
            plan.Run(x, y);
            return y;
        }).ToArray();
        var actual = new float[inputs.Length][];
        Parallel.For(0, inputs.Length, i =>
        {
            actual[i] = new float[problem.OutputLength];
            for (int repeat = 0; repeat < 20; repeat++) plan.Run(inputs[i], actual[i]);
        });
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    internal static void CheckOnEveryBackend(ConvProblem problem, int seed) => Check(problem, seed, TestBackends.UnderTest());

    /// <summary>Integer fill (bit-exact) and real fill (tolerance rule) on each backend.</summary>
    internal static void Check(Problem problem, int seed, IEnumerable<Backend> backends) => TestBackends.Check(problem, seed, backends);
}
