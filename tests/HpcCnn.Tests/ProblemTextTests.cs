namespace HpcCnn.Tests;

public class ProblemTextTests
{
    [Fact]
    public void Parses_every_field_with_benchdnn_meaning()
    {
        var p = ConvProblem.Parse("g2mb3ic4ih10iw12oc6kh3kw5sh2sw1ph1pw2dh1dw0n\"all fields\"");
        Assert.Equal(2, p.Groups);
        Assert.Equal(3, p.Batch);
        Assert.Equal(4, p.InChannels);
        Assert.Equal(10, p.InHeight);
        Assert.Equal(12, p.InWidth);
        Assert.Equal(6, p.OutChannels);
        Assert.Equal(3, p.KernelHeight);
        Assert.Equal(5, p.KernelWidth);
        Assert.Equal(2, p.StrideHeight);
        Assert.Equal(1, p.StrideWidth);
        Assert.Equal(1, p.PadHeight);
        Assert.Equal(2, p.PadWidth);
        Assert.Equal(2, p.DilationHeight); // benchdnn dh1 = one gap = PyTorch dilation 2
        Assert.Equal(1, p.DilationWidth);
        Assert.Equal("all fields", p.Name);
    }

    [Fact]
    public void Missing_fields_take_benchdnn_defaults()
    {
        var p = ConvProblem.Parse("ic3ih7oc4kh3");
        Assert.Equal(ConvProblem.DefaultBatch, p.Batch);
        Assert.Equal((7, 3), (p.InWidth, p.KernelWidth)); // width repeats height
        Assert.Equal((1, 1, 0, 0, 1, 1, 1), (p.StrideHeight, p.StrideWidth, p.PadHeight, p.PadWidth, p.DilationHeight, p.DilationWidth, p.Groups));
        Assert.Equal(Activation.None, p.Activation);
        Assert.Null(p.Name);
        var q = ConvProblem.Parse("mb1ic3ih9oc4kh3sh2ph1dh1");
        Assert.Equal((2, 1, 2), (q.StrideWidth, q.PadWidth, q.DilationWidth)); // width values repeat height values
    }

    [Fact]
    public void Output_size_and_flops_follow_the_definition()
    {
        // alexnet_c1: (227 + 2·2 − 11) / 4 + 1 = 56.
        var alexnet = ConvProblem.Parse("mb1ic3ih227oc64kh11sh4ph2");
        Assert.Equal(56, alexnet.OutHeight);
        Assert.Equal(2L * 64 * 56 * 56 * 3 * 11 * 11, alexnet.Flops);
        var dilated = ConvProblem.Parse("mb1ic64ih56oc64kh3ph2dh1"); // span 5, padded 60: 56 outputs
        Assert.Equal(56, dilated.OutHeight);
        var depthwise = ConvProblem.Parse("g128mb1ic128ih56oc128kh3ph1");
        Assert.Equal(2L * 128 * 56 * 56 * 1 * 9, depthwise.Flops);
        Assert.Equal(128L * 1 * 3 * 3, depthwise.WeightsLength);
        var pool = PoolProblem.Parse("--alg=max mb1ic64ih112kh3sh2ph1");
        Assert.Equal((56, 56), (pool.OutHeight, pool.OutWidth)); // (112 + 2 − 3) / 2 + 1
        Assert.Equal(0, Geometry.OutputSize(input: 2, kernel: 5, stride: 1, pad: 1, dilation: 1));
    }

    [Fact]
    public void Post_ops_and_pooling_algorithms_parse()
    {
        Assert.Equal(Activation.Relu, ConvProblem.Parse("--attr-post-ops=relu mb1ic1ih3oc1kh1").Activation);
        var leaky = ConvProblem.Parse("--attr-post-ops=relu:0.125 mb1ic1ih3oc1kh1");
        Assert.Equal((Activation.LeakyRelu, 0.125f), (leaky.Activation, leaky.ActivationAlpha));
        Assert.Equal(PoolAlgorithm.Max, PoolProblem.Parse("mb1ic1ih4kh2").Algorithm);
        Assert.Equal(PoolAlgorithm.AverageExcludePadding, PoolProblem.Parse("--alg=avg_np mb1ic1ih4kh2").Algorithm);
        Assert.Equal(PoolAlgorithm.AverageIncludePadding, PoolProblem.Parse("--alg=avg_p mb1ic1ih4kh2").Algorithm);
    }

    [Theory]
    [InlineData("mb1ic3ih5oc2kh3ph1")]
    [InlineData("g128mb1ic128ih56oc128kh3ph1n\"mobilenet_dw\"")]
    [InlineData("mb1ic3ih9iw14oc4kh3kw5sh1sw3ph0pw2dh2dw0")]
    [InlineData("--attr-post-ops=relu:0.1 mb1ic3ih5oc2kh3n\"with spaces in name\"")]
    [InlineData("--alg=avg_p mb32ic64ih28kh3ph1n\"avgpool_3x3s1_pad\"")]
    public void Canonical_text_is_stable(string text)
    {
        var problem = ProblemSuite.Parse([text]).Single();
        Assert.Equal(text, problem.ToString());
    }

    [Fact]
    public void Random_problems_round_trip_through_text()
    {
        for (int seed = 0; seed < RandomProblems.Count; seed++)
        {
            var conv = RandomProblems.Conv(seed) with { Name = $"random {seed}" };
            Assert.Equal(conv, ConvProblem.Parse(conv.ToString()));
            var pool = RandomProblems.Pool(seed);
            Assert.Equal(pool, PoolProblem.Parse(pool.ToString()));
        }
    }

    [Fact]
    public void Every_suite_line_parses_and_round_trips()
    {
        foreach (var file in new[] { "conv_suite.txt", "pool_suite.txt", "training_suite.txt" })
        {
            var problems = TestBackends.Suite(file);
            Assert.NotEmpty(problems);
            foreach (var problem in problems)
            {
                Assert.NotNull(problem.Name);
                Assert.Equal(problem, ProblemSuite.Parse([problem.ToString()]).Single());
            }
        }
        Assert.Equal(10, TestBackends.Suite("conv_suite.txt").Count);
        Assert.All(TestBackends.Suite("pool_suite.txt"), p => Assert.IsType<PoolProblem>(p));
    }

    [Fact]
    public void Suite_reader_handles_comments_options_and_several_descriptors_per_line()
    {
        var problems = ProblemSuite.Parse(
        [
            "# a comment line",
            "",
            "--alg=avg_np mb1ic2ih4kh2 # trailing comment",
            "mb1ic2ih4kh2 mb1ic2ih6kh3n\"named # not a comment\"", // --alg stays in force, as in benchdnn
            "--alg=max mb1ic2ih4kh2",
            "--attr-post-ops=relu mb1ic2ih4oc3kh1",
        ]);
        Assert.Equal(5, problems.Count);
        Assert.All(problems.Take(3), p => Assert.Equal(PoolAlgorithm.AverageExcludePadding, ((PoolProblem)p).Algorithm));
        Assert.Equal("named # not a comment", problems[2].Name);
        Assert.Equal(PoolAlgorithm.Max, ((PoolProblem)problems[3]).Algorithm);
        Assert.Equal(Activation.Relu, ((ConvProblem)problems[4]).Activation);
    }

    [Theory]
    [InlineData("mb1ic3ih5oc2kh3xx2", "unknown parameter 'xx'")]
    [InlineData("mb1ic3ih5oc2kh3ph1ph2", "'ph' is given twice")]
    [InlineData("mb1ih5oc2kh3", "required parameter 'ic'")]
    [InlineData("mb1ic3oc2kh3", "required parameter 'ih'")]
    [InlineData("mb1ic3ih5oc2kh", "'kh' at position 12 has no value")]
    [InlineData("mb1ic3ih5oc2kh3n\"open", "unterminated")]
    [InlineData("mb1ic3ih5oc2kh3oh9", "oh9 does not match the computed output size 3")]
    [InlineData("mb1ic3ih99999999999oc2kh3", "larger than")]
    [InlineData("mb1ic3ih5oc2kh3 mb1ic3ih5oc2kh3", "more than one descriptor")]
    [InlineData("--attr-post-ops=tanh mb1ic3ih5oc2kh3", "--attr-post-ops=tanh is not supported")]
    [InlineData("--alg=max mb1ic3ih5oc2kh3", "--alg does not apply here")]
    [InlineData("MB1ic3ih5oc2kh3", "expected a parameter name at position 0")]
    public void Bad_convolution_text_says_what_is_wrong(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ConvProblem.Parse(text));
        Assert.Contains(expected, error.Message);
        Assert.False(ConvProblem.TryParse(text, out var problem, out var message));
        Assert.Null(problem);
        Assert.Equal(error.Message, message);
    }

    [Theory]
    [InlineData("--alg=median mb1ic3ih5kh3", "unknown pooling algorithm --alg=median")]
    [InlineData("mb1ic3ih5oc3kh3", "'oc' is not a pooling parameter")]
    [InlineData("mb1ic3ih5kh3dh1", "'dh' is not a pooling parameter")]
    [InlineData("--attr-post-ops=relu mb1ic3ih5kh3", "--attr-post-ops does not apply here")]
    public void Bad_pooling_text_says_what_is_wrong(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => PoolProblem.Parse(text)).Message);

    [Fact]
    public void Suite_errors_name_the_file_and_line()
    {
        var error = Assert.Throws<FormatException>(() => ProblemSuite.Parse(["mb1ic3ih5oc2kh3", "# fine", "mb1ic3ih5oc2kh3zz1"], "my.txt"));
        Assert.StartsWith("my.txt:3:", error.Message);
        Assert.Contains("unknown option --dir", Assert.Throws<FormatException>(() => ProblemSuite.Parse(["--dir=FWD_B mb1ic3ih5oc2kh3"])).Message);
    }
}
