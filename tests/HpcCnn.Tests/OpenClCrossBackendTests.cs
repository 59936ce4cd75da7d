namespace HpcCnn.Tests;

/// <summary>
/// The whole cross-backend suite on the OpenCL backend (PoCL in CI): the same named, edge-case and
/// random problems as the CPU backend, in both kernel styles, and the same bad-input rules.
/// Skipped with the reason where there is no OpenCL platform, except under CI.
/// </summary>
public class OpenClCrossBackendTests
{
    [SkippableTheory]
    [MemberData(nameof(ConvCrossBackendTests.SuiteProblems), MemberType = typeof(ConvCrossBackendTests))]
    public void Conv_suite_problem_matches_oracle(string descriptor) =>
        ConvCrossBackendTests.Check(ConvProblem.Parse(descriptor), 7, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(ConvCrossBackendTests.EdgeCases), MemberType = typeof(ConvCrossBackendTests))]
    public void Conv_edge_case_matches_oracle(string descriptor) =>
        ConvCrossBackendTests.Check(ConvProblem.Parse(descriptor), 11, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Conv_random_problem_matches_oracle(int seed) =>
        ConvCrossBackendTests.Check(RandomProblems.Conv(seed), seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(RandomProblems.WideSeeds), MemberType = typeof(RandomProblems))]
    public void Conv_random_wide_problem_matches_oracle(int seed) =>
        ConvCrossBackendTests.Check(RandomProblems.WideConv(seed), seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(PoolCrossBackendTests.SuiteProblems), MemberType = typeof(PoolCrossBackendTests))]
    public void Pool_suite_problem_matches_oracle(string descriptor) =>
        PoolCrossBackendTests.Check(PoolProblem.Parse(descriptor), 7, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(PoolCrossBackendTests.EdgeCases), MemberType = typeof(PoolCrossBackendTests))]
    public void Pool_edge_case_matches_oracle(string descriptor) =>
        PoolCrossBackendTests.Check(PoolProblem.Parse(descriptor), 11, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 64, 7, 7)]
    public void Global_average_matches_oracle(int batch, int channels, int height, int width) =>
        PoolCrossBackendTests.Check(PoolProblem.GlobalAverage(batch, channels, height, width), 5, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Pool_random_problem_matches_oracle(int seed) =>
        PoolCrossBackendTests.Check(RandomProblems.Pool(seed), seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Eltwise_random_problem_matches_oracle(int seed) =>
        TestBackends.Check(RandomProblems.Eltwise(seed), seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(RandomProblems.BackwardSeeds), MemberType = typeof(RandomProblems))]
    public void Eltwise_random_backward_problem_matches_oracle(int seed) =>
        TestBackends.Check(RandomProblems.Eltwise(seed) with { Direction = Direction.BackwardData }, seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    public void Eltwise_in_place_equals_out_of_place(Activation op) => EltwiseCrossBackendTests.InPlaceEqualsOutOfPlace(TestBackends.OpenCl(), op);

    [SkippableFact]
    public void Eltwise_extreme_inputs_stay_finite_and_saturate() => EltwiseCrossBackendTests.ExtremeInputs(TestBackends.OpenCl());

    [SkippableTheory]
    [MemberData(nameof(BackwardCrossBackendTests.RandomCases), MemberType = typeof(BackwardCrossBackendTests))]
    public void Training_random_problem_matches_oracle(string kind, int seed) =>
        TestBackends.Check(BackwardCrossBackendTests.RandomProblem(kind, seed), seed, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(BackwardCrossBackendTests.EdgeCases), MemberType = typeof(BackwardCrossBackendTests))]
    public void Training_edge_case_matches_oracle(string descriptor) =>
        TestBackends.Check(ProblemSuite.Parse([descriptor]).Single(), 11, TestBackends.OpenClForEveryKernelStyle());

    [SkippableTheory]
    [MemberData(nameof(BackwardCrossBackendTests.TrainingSuite), MemberType = typeof(BackwardCrossBackendTests))]
    public void Training_suite_problem_matches_oracle(string descriptor) =>
        TestBackends.Check(ProblemSuite.Parse([descriptor]).Single(), 7, TestBackends.OpenClForEveryKernelStyle());

    [SkippableFact]
    public void Bad_inputs_are_rejected_as_on_the_cpu()
    {
        var backend = TestBackends.OpenCl();
        var rules = new BadInputTests();
        rules.Short_weights_and_bias_are_rejected(backend);
        rules.Short_and_overlapping_run_spans_are_rejected(backend);
        rules.Pool_run_spans_are_checked(backend);
        rules.Eltwise_arguments_are_checked(backend);
        foreach (var row in BadInputTests.BadSizes)
            Assert.ThrowsAny<ArgumentException>(() => backend.CreateConvPlan(BadInputTests.With(BadInputTests.Valid, (string)row[0], (int)row[1]), new float[1000], new float[3]));
    }
}
