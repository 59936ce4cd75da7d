using HpcCnn.Cpu;

namespace HpcCnn.Tests;

/// <summary>
/// The training directions (forward training, backward data, backward weights and bias) of every
/// operation on every native code path against the oracle: 300 seeded random problems per
/// (operation, direction), the edge cases and suites run backward, and identical bits for any
/// thread count. The OpenCL counterparts are in <see cref="OpenClCrossBackendTests"/>.
/// </summary>
public class BackwardCrossBackendTests
{
    /// <summary>Random problems of one (operation, direction); offsets keep them apart from the forward tests' problems.</summary>
    internal static Problem RandomProblem(string kind, int seed) => kind switch
    {
        "conv BWD_D" => RandomProblems.Conv(RandomProblems.Count + seed) with { Direction = Direction.BackwardData },
        "conv BWD_W" => RandomProblems.Conv(2 * RandomProblems.Count + seed) with { Direction = Direction.BackwardWeights },
        "conv BWD_WB" => RandomProblems.Conv(3 * RandomProblems.Count + seed) with { Direction = Direction.BackwardWeightsAndBias },
        "pool FWD_D" => RandomProblems.Pool(RandomProblems.Count + seed) with { Direction = Direction.ForwardTraining },
        "pool BWD_D" => RandomProblems.Pool(2 * RandomProblems.Count + seed) with { Direction = Direction.BackwardData },
        "ip FWD_D" => RandomProblems.Dense(seed) with { Direction = Direction.ForwardTraining },
        "ip BWD_D" => RandomProblems.Dense(RandomProblems.Count + seed) with { Direction = Direction.BackwardData },
        "ip BWD_W" => RandomProblems.Dense(2 * RandomProblems.Count + seed) with { Direction = Direction.BackwardWeights },
        "ip BWD_WB" => RandomProblems.Dense(3 * RandomProblems.Count + seed) with { Direction = Direction.BackwardWeightsAndBias },
        "softmax FWD_I" => RandomProblems.Softmax(seed),
        "softmax FWD_D" => RandomProblems.Softmax(RandomProblems.Count + seed) with { Direction = Direction.ForwardTraining },
        "softmax BWD_D" => RandomProblems.Softmax(2 * RandomProblems.Count + seed) with { Direction = Direction.BackwardData },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown kind of random problem"),
    };

    public static readonly string[] Kinds = ["conv BWD_D", "conv BWD_W", "conv BWD_WB", "pool FWD_D", "pool BWD_D", "ip FWD_D", "ip BWD_D", "ip BWD_W", "ip BWD_WB",
        "softmax FWD_I", "softmax FWD_D", "softmax BWD_D"];

    public static IEnumerable<object[]> RandomCases() =>
        Kinds.SelectMany(kind => Enumerable.Range(0, RandomProblems.BackwardCount).Select(seed => new object[] { kind, seed }));

    public static IEnumerable<object[]> EdgeCases() =>
        ((IEnumerable<object[]>)ConvCrossBackendTests.EdgeCases).SelectMany(row => new[] { Direction.BackwardData, Direction.BackwardWeightsAndBias }
                .Select(direction => new object[] { (ConvProblem.Parse((string)row[0]) with { Direction = direction }).ToString() }))
            .Concat(((IEnumerable<object[]>)PoolCrossBackendTests.EdgeCases).SelectMany(row => new[] { Direction.ForwardTraining, Direction.BackwardData }
                .Select(direction => new object[] { (PoolProblem.Parse((string)row[0]) with { Direction = direction }).ToString() })));

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Random_problem_matches_oracle(string kind, int seed) => TestBackends.Check(RandomProblem(kind, seed), seed, TestBackends.UnderTest());

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Edge_case_matches_oracle(string descriptor) => TestBackends.Check(ProblemSuite.Parse([descriptor]).Single(), 11, TestBackends.UnderTest());

    /// <summary>
    /// Pooling gradients of 3x3 windows at stride 1 and 2 with top and left padding 1, which the
    /// AVX-512 whole-row kernels take on planes up to 64 columns: widths on each side of every
    /// register count (and 65, past them), one- to eight-row images, bottom and right padding 0
    /// (odd sizes at stride 2, an explicit output size at stride 1) and 1.
    /// </summary>
    public static IEnumerable<object[]> RowsKernelCases()
    {
        int[] widths = [1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65];
        foreach (var algorithm in new[] { "max", "avg_np", "avg_p" })
            foreach (int stride in new[] { 1, 2 })
                for (int i = 0; i < widths.Length; i++)
                {
                    int width = widths[i], height = i % 8 + 1;
                    string size = stride == 1 && i % 2 == 1 && height > 1 && width > 1
                        ? $"ih{height}iw{width}oh{height - 1}ow{width - 1}" // bottom and right padding 0
                        : $"ih{height}iw{width}";
                    yield return [$"--dir=BWD_D --alg={algorithm} mb2ic3{size}kh3kw3sh{stride}sw{stride}ph1pw1"];
                }
    }

    /// <summary>
    /// Max pooling gradients of 2x2 windows at stride 2 on planes they tile exactly with fewer than
    /// 16 outputs a row, which the AVX-512 kernel writes with whole vectors running into the next
    /// row: one row and one plane (only the masked last row), several planes, every width.
    /// </summary>
    public static IEnumerable<object[]> Narrow2x2Cases() =>
        new[] { (1, 1, 1, 1), (1, 1, 1, 5), (2, 3, 1, 7), (3, 5, 5, 5), (2, 4, 14, 14), (1, 2, 3, 8), (5, 3, 2, 15), (2, 7, 4, 1) }
            .Select(c => new object[] { $"--dir=BWD_D --alg=max mb{c.Item1}ic{c.Item2}ih{2 * c.Item3}iw{2 * c.Item4}kh2kw2sh2sw2" });

    [Theory]
    [MemberData(nameof(Narrow2x2Cases))]
    public void Pooling_narrow_2x2_case_matches_oracle(string descriptor)
    {
        var problem = ProblemSuite.Parse(["--pool " + descriptor]).Single();
        TestBackends.Check(problem, 17, TestBackends.UnderTest());
        // Runs of planes per thread end elsewhere with more threads: the same bits.
        var one = problem.Operation.Run(new CpuBackend(new CpuBackendOptions { Threads = 1 }), problem, FillKind.Real, seed: 3);
        var three = problem.Operation.Run(new CpuBackend(new CpuBackendOptions { Threads = 3 }), problem, FillKind.Real, seed: 3);
        Assert.True(one.AsSpan().SequenceEqual(three), $"{problem}: 3 threads differ from 1");
    }

    [Theory]
    [MemberData(nameof(RowsKernelCases))]
    public void Pooling_rows_kernel_case_matches_oracle(string descriptor) =>
        TestBackends.Check(ProblemSuite.Parse(["--pool " + descriptor]).Single(), 13, TestBackends.UnderTest());

    /// <summary>
    /// Data gradients that run as forward convolutions on the AVX-512 images-in-lanes kernel (16
    /// or more images, fewer than 32 input channels, small planes with a wide reach): LeNet's second layer, blocks of 16
    /// images with one or two left over, every fused activation, kernel rows and columns of
    /// different sizes, dilation, padding different on each side, 31 channels (a last block of 1).
    /// </summary>
    public static IEnumerable<object[]> LanesCases() => new[]
    {
        "mb16ic6ih14oc16kh5", "--attr-post-ops=relu mb17ic6ih14oc16kh5", "--attr-post-ops=relu:0.25 mb18ic4ih10oc8kh5ph2",
        "--attr-post-ops=tanh mb33ic5ih9iw13oc7kh5kw3", "--attr-post-ops=logistic mb16ic2ih6oc3kh3", "mb20ic4ih12oc8kh3dh1",
        "mb16ic3ih10iw10oc9oh9ow11kh5kw5ph1pw3", "mb16ic31ih7oc10kh5ph1", "mb48ic6ih8iw11oc12kh2kw4",
    }.Select(text => new object[] { "--dir=BWD_D " + text });

    [Theory]
    [MemberData(nameof(LanesCases))]
    public void Convolution_lanes_case_matches_oracle(string descriptor) => CheckLanesCase(descriptor, "as_forward:lanes_6x4_avx512", 19);

    /// <summary>
    /// Forward convolutions that the AVX-512 images-in-lanes kernel takes (16 or more images, up to
    /// 8 input and fewer than 32 output channels): LeNet's two layers, a last block of 1 or 2
    /// images, every fused activation, strides, dilation, kernels 1 to 7 wide, output rows that
    /// do not fill the last tile, output channels that do not fill the last block, with and
    /// without the bias.
    /// </summary>
    public static IEnumerable<object[]> ForwardLanesCases() => new[]
    {
        "--dir=FWD_D --attr-post-ops=relu mb16ic1ih28oc6kh5ph2", "--dir=FWD_D --attr-post-ops=relu mb17ic6ih14oc16kh5",
        "--dir=FWD_I --attr-post-ops=tanh mb18ic3ih13iw9oc7kh3kw5sh2ph1pw2", "--dir=FWD_I --attr-post-ops=logistic mb16ic8ih10oc31kh3dh1ph2",
        "--dir=FWD_I --attr-post-ops=relu:0.25 mb33ic2ih7oc5kh7ph3", "--dir=FWD_I mb16ic5ih6iw11oc1kh2kw1sh1sw2",
    }.Select(text => new object[] { text });

    [Theory]
    [MemberData(nameof(ForwardLanesCases))]
    public void Convolution_forward_lanes_case_matches_oracle(string descriptor) => CheckLanesCase(descriptor, "lanes_6x4_avx512", 31);

    /// <summary>
    /// Weights gradients that the AVX-512 images-in-lanes kernel takes (16 or more images, few
    /// channels): LeNet's two layers, a last block of 1 or 2 images, groups, every fused activation,
    /// strides and dilation (no sliding window), kernel widths 1 to 7, with and without the bias.
    /// </summary>
    public static IEnumerable<object[]> WeightsLanesCases() => new[]
    {
        "--dir=BWD_WB mb16ic1ih28oc6kh5ph2", "--dir=BWD_WB --attr-post-ops=relu mb17ic6ih14oc16kh5",
        "--dir=BWD_WB --attr-post-ops=tanh g2mb18ic4ih9oc6kh3ph1", "--dir=BWD_W --attr-post-ops=logistic mb33ic3ih11oc9kh5ph2",
        "--dir=BWD_WB --attr-post-ops=relu:0.25 mb16ic3ih13oc8kh3sh2ph1", "--dir=BWD_WB mb20ic2ih7iw14oc20kh2kw5dw1ph1pw1",
        "--dir=BWD_W mb16ic2ih9iw12oc5kh1kw7pw3", "--dir=BWD_WB mb32ic3ih8oc40kh1", "--dir=BWD_WB mb16ic5ih6iw9oc7kh4kw2sh2sw3",
    }.Select(text => new object[] { text });

    [Theory]
    [MemberData(nameof(WeightsLanesCases))]
    public void Convolution_weights_lanes_case_matches_oracle(string descriptor) => CheckLanesCase(descriptor, "lanes_few_channels_avx512", 29);

    /// <summary>
    /// A convolution that an images-in-lanes kernel takes on AVX-512 (which the name checks there)
    /// against the oracle on every backend, and the same bits with 1 and 3 threads (blocks of
    /// images or tasks go to threads in another order).
    /// </summary>
    private static void CheckLanesCase(string descriptor, string algorithm, int seed)
    {
        var problem = ProblemSuite.Parse(["--conv " + descriptor]).Single();
        if (NativeLibraryInfo.BestIsa == "avx512")
        {
            using var prepared = problem.Operation.Prepare(TestBackends.Cpu.Value, problem, 5);
            Assert.Equal(algorithm, prepared.Algorithm);
        }
        TestBackends.Check(problem, seed, TestBackends.UnderTest());
        var one = problem.Operation.Run(new CpuBackend(new CpuBackendOptions { Threads = 1 }), problem, FillKind.Real, seed: 3);
        var three = problem.Operation.Run(new CpuBackend(new CpuBackendOptions { Threads = 3 }), problem, FillKind.Real, seed: 3);
        Assert.True(one.AsSpan().SequenceEqual(three), $"{problem}: 3 threads differ from 1");
    }

    /// <summary>
    /// Data gradients with a fused activation that run as forward convolutions on the AVX-512
    /// direct kernels (channel-blocked and plain-row windows): every activation, dilation, uneven
    /// kernels.
    /// </summary>
    public static IEnumerable<object[]> ActivatedAsForwardCases() => new[]
    {
        "--attr-post-ops=relu mb2ic32ih10oc32kh3ph1", "--attr-post-ops=tanh mb3ic48ih9iw11oc17kh3kw5ph1pw2",
        "--attr-post-ops=logistic mb2ic64ih8oc64kh3ph2dh1", "--attr-post-ops=relu:0.1 mb2ic40ih7oc35kh3ph1",
    }.Select(text => new object[] { "--dir=BWD_D " + text });

    [Theory]
    [MemberData(nameof(ActivatedAsForwardCases))]
    public void Convolution_activated_as_forward_case_matches_oracle(string descriptor)
    {
        var problem = ProblemSuite.Parse(["--conv " + descriptor]).Single();
        if (NativeLibraryInfo.BestIsa == "avx512")
        {
            using var prepared = problem.Operation.Prepare(TestBackends.Cpu.Value, problem, 5);
            Assert.StartsWith("as_forward:direct_", prepared.Algorithm);
            Assert.EndsWith("_6x64_avx512", prepared.Algorithm);
        }
        TestBackends.Check(problem, 23, TestBackends.UnderTest());
    }

    /// <summary>
    /// Weights gradients of convolutions with 32 to 96 output channels (a third of them in two
    /// groups): the shapes whose output channels fill the AVX-512 tap tiles.
    /// </summary>
    internal static ConvProblem WideWeightsGradient(int seed)
    {
        var problem = RandomProblems.WideConv(RandomProblems.WideCount + seed) with { Direction = Direction.BackwardWeightsAndBias };
        return seed % 3 == 0 ? problem with { Groups = 2, InChannels = 2 * problem.InChannels, OutChannels = 2 * problem.OutChannels } : problem;
    }

    [Theory]
    [MemberData(nameof(RandomProblems.WideSeeds), MemberType = typeof(RandomProblems))]
    public void Random_wide_weights_gradient_matches_oracle(int seed) => TestBackends.Check(WideWeightsGradient(seed), seed, TestBackends.UnderTest());

    [Fact]
    public void Random_backward_problems_reach_every_backward_algorithm()
    {
        var algorithms = Enumerable.Range(0, RandomProblems.BackwardCount)
            .SelectMany(seed => Kinds.Select(kind => (Problem: RandomProblem(kind, seed), Seed: seed)))
            .Concat(Enumerable.Range(0, RandomProblems.WideCount).Select(seed => (Problem: (Problem)WideWeightsGradient(seed), Seed: seed)))
            .Select(item =>
            {
                using var prepared = item.Problem.Operation.Prepare(TestBackends.Cpu.Value, item.Problem, item.Seed);
                return prepared.Algorithm.Split(':')[0]; // "as_forward:<the forward algorithm>"
            })
            .ToHashSet();
        var gemm = NativeLibraryInfo.BestIsa == "avx512" ? "8x32_avx512" : NativeLibraryInfo.BestIsa == "avx2" ? "6x16_avx2" : "4x16_generic";
        var expected = new[] { "as_forward", "gemm_col2im_" + gemm, "backward_data_generic", "im2col_gemm_" + gemm, "backward_weights_generic",
            "max_argmax_" + NativeLibraryInfo.BestIsa, "backward_" + NativeLibraryInfo.BestIsa, "gemm_" + gemm, "softmax_" + NativeLibraryInfo.BestIsa,
            "softmax_cross_entropy_backward_" + NativeLibraryInfo.BestIsa };
        foreach (var name in NativeLibraryInfo.BestIsa == "avx512" ? expected.Concat(["taps_8x32_avx512", "depthwise_direct_avx512"]) : expected)
            Assert.Contains(name, algorithms);
    }

    [Fact]
    public void Training_directions_give_the_same_bits_for_any_thread_count()
    {
        var problems = new[]
        {
            "--dir=BWD_D mb3ic16ih12oc24kh3ph1", "--dir=BWD_D mb2ic8ih13oc6kh3sh2ph1", "--dir=BWD_D --attr-post-ops=tanh g4mb2ic8ih9oc8kh3ph1",
            "--dir=BWD_D mb8ic32ih28oc64kh3sh2ph1", "--dir=BWD_D mb1ic32ih28oc64kh3sh2ph1", // GEMM + col2im: images per thread, threads per image
            "--dir=BWD_WB mb3ic16ih12oc24kh3ph1", "--dir=BWD_WB --attr-post-ops=relu mb2ic8ih13oc6kh3sh2ph1", "--dir=BWD_WB mb4ic32ih20oc64kh5ph2",
            "--dir=BWD_WB g32mb4ic32ih40oc32kh3ph1",
            "--dir=BWD_WB --attr-post-ops=tanh mb12ic64ih56oc64kh3ph1", "--dir=BWD_WB g2mb2ic16ih4iw600oc64kh3kw3ph1pw1", // AVX-512 tap tiles: window chunks with a fused activation; row pieces
            "--dir=FWD_D --alg=max mb4ic16ih28kh2sh2", "--dir=BWD_D --alg=max mb3ic8ih17kh3sh2ph1", "--dir=BWD_D --alg=avg_p mb2ic32ih30kh3sh2ph1",
            "--ip --dir=FWD_D --attr-post-ops=relu mb96ic300oc200", "--ip --dir=BWD_D mb96ic300oc200", "--ip --dir=BWD_WB --attr-post-ops=tanh mb96ic300oc200",
        }.Select(text => ProblemSuite.Parse([text]).Single())
            .Append(new EltwiseProblem { Activation = Activation.Sigmoid, Length = 300000, Direction = Direction.BackwardData })
            .Append(new SoftmaxProblem { Batch = 9000, Classes = 10, Direction = Direction.ForwardTraining })
            .Append(new SoftmaxProblem { Batch = 9000, Classes = 10, Direction = Direction.BackwardData });
        foreach (var problem in problems)
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var outputs = problem.Operation.Run(new CpuBackend(new CpuBackendOptions { Threads = threads }), problem, FillKind.Real, seed: 5);
                first ??= outputs;
                Assert.True(first.AsSpan().SequenceEqual(outputs), $"{problem}: {threads} threads differ from 1 thread");
            }
        }
    }

    public static IEnumerable<object[]> TrainingSuite() => TestBackends.Suite("training_suite.txt").Select(p => new object[] { p.ToString() });

    [Theory]
    [MemberData(nameof(TrainingSuite))]
    public void Training_suite_problem_matches_oracle(string descriptor) =>
        TestBackends.Check(ProblemSuite.Parse([descriptor]).Single(), 7, TestBackends.UnderTest());

    [Fact]
    public void Training_suite_holds_every_driver_and_direction()
    {
        var suite = TestBackends.Suite("training_suite.txt");
        foreach (var operation in new[] { Operation.Conv, Operation.Pool, Operation.Dense, Operation.Softmax, Operation.Eltwise })
            Assert.Contains(suite, p => p.Operation == operation);
        foreach (var direction in new[] { Direction.ForwardTraining, Direction.BackwardData, Direction.BackwardWeightsAndBias })
            Assert.Contains(suite, p => p.Direction == direction);
    }
}
