namespace HpcCnn.Tests;

public class PoolCrossBackendTests
{
    public static IEnumerable<object[]> SuiteProblems() =>
        TestBackends.Suite("pool_suite.txt").Select(p => new object[] { p.ToString() });

    public static readonly TheoryData<string> EdgeCases = new()
    {
        "--alg=max mb1ic1ih1kh1n\"1x1 image\"",
        "--alg=avg_np mb3ic5ih7kh3sh2ph1n\"odd batch, padding excluded\"",
        "--alg=avg_p mb1ic3ih6iw9kh2kw3sh1sw2ph1pw1n\"asymmetric, padding included\"",
        "--alg=max mb1ic2ih5kh5n\"kernel as large as the image\"",
        "--alg=max mb1ic2ih7kh2sh3n\"stride larger than kernel\"",
        "--alg=avg_np mb1ic2ih2kh3ph1n\"padding on a 2x2 image\"",
        "--alg=avg_p mb2ic17ih1iw9kh1kw3pw1n\"one-row image\"",
        "--alg=max mb1ic3ih9kh3sh2ph1n\"padded max\"",
        "--alg=avg_p mb1ic3ih7oh4kh2sh2n\"asymmetric: same 2x2 stride 2 on an odd image, padding counted\"",
        "--alg=max mb2ic5ih16oh8kh3sh2n\"asymmetric: same 3x3 stride 2, bottom and right\"",
        "--alg=avg_np mb1ic4ih9iw10oh5ow5kh3kw3sh2sw2ph1pw0n\"asymmetric: right column only, padding excluded\"",
        "--alg=max mb1ic2ih9iw9ow5kh3kw3sh2sw2pw2n\"asymmetric: two columns on the left only\"",
        "--alg=avg_p mb1ic2ih6oh6kh4ph1n\"asymmetric: 4x4 stride 1, one above and two below, padding counted\"",
        "--alg=avg_np mb1ic2ih5kh3ph2n\"padding above half the kernel\"",
    };

    [Theory]
    [MemberData(nameof(SuiteProblems))]
    public void Suite_problem_matches_oracle(string descriptor) => CheckOnEveryBackend(PoolProblem.Parse(descriptor), seed: 7);

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Edge_case_matches_oracle(string descriptor) => CheckOnEveryBackend(PoolProblem.Parse(descriptor), seed: 11);

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 3, 7, 5)]
    [InlineData(3, 64, 7, 7)]
    public void Global_average_matches_oracle(int batch, int channels, int height, int width)
    {
        var problem = PoolProblem.GlobalAverage(batch, channels, height, width);
        Assert.Equal(1, problem.OutHeight);
        Assert.Equal(1, problem.OutWidth);
        CheckOnEveryBackend(problem, seed: 5);
    }

    [Theory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Random_problem_matches_oracle(int seed) => CheckOnEveryBackend(RandomProblems.Pool(seed), seed);

    private static void CheckOnEveryBackend(PoolProblem problem, int seed) => Check(problem, seed, TestBackends.UnderTest());

    /// <summary>Integer fill (bit-exact) and real fill (tolerance rule) on each backend.</summary>
    internal static void Check(Problem problem, int seed, IEnumerable<Backend> backends) => TestBackends.Check(problem, seed, backends);
}
