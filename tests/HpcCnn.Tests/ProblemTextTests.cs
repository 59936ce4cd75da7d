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
        Assert.Equal((1, 1), (p.PadTop, p.PadBottom));
        Assert.Equal((2, 2), (p.PadLeft, p.PadRight));
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
        Assert.Equal((1, 1, 0, 0, 1, 1, 1), (p.StrideHeight, p.StrideWidth, p.PadTop, p.PadRight, p.DilationHeight, p.DilationWidth, p.Groups));
        Assert.Equal(Activation.None, p.Activation);
        Assert.Null(p.Name);
        var q = ConvProblem.Parse("mb1ic3ih9oc4kh3sh2ph1dh1");
        Assert.Equal((2, 1, 1, 2), (q.StrideWidth, q.PadLeft, q.PadRight, q.DilationWidth)); // a width not given repeats the height
        // A width given (iw) takes its own defaults, as in benchdnn: stride 1, padding 0, dilation 0.
        var r = ConvProblem.Parse("mb1ic3ih9iw11oc4kh3kw3sh2ph1dh1");
        Assert.Equal((1, 0, 0, 1), (r.StrideWidth, r.PadLeft, r.PadRight, r.DilationWidth));
        // benchdnn counts pw0 and dw0 as not given: the width still repeats the height.
        var s = ConvProblem.Parse("mb1ic3ih9oc4kh3ph1pw0dh1dw0");
        Assert.Equal((1, 1, 2), (s.PadLeft, s.PadRight, s.DilationWidth));
    }

    [Theory]
    // benchdnn's tails_conv:1: oh12 from ih13 kh3 ph0 leaves one padding row at the bottom.
    [InlineData("ic32oc13_ih13oh12kh3ph0_n\"tails_conv:1\"", 0, 1, 0, 1)]
    // ph deduced from oh: ((12-1)*1 - 13 + 3) / 2 = 0, the rest at the bottom; the width repeats it.
    [InlineData("ic32oc13ih13oh12kh3", 0, 1, 0, 1)]
    // TensorFlow "same", 7x7 stride 2 on 224: padding 2 above and 3 below.
    [InlineData("mb1ic3ih224oc64oh112kh7sh2", 2, 3, 2, 3)]
    // Symmetric padding written with its output size.
    [InlineData("mb1ic3ih9oc4oh9kh3ph1", 1, 1, 1, 1)]
    // Rows a stride never reaches need no (negative) padding: ih10 kh3 sh4 gives 2 outputs.
    [InlineData("mb1ic1ih10oc1oh2kh3sh4ph0", 0, 0, 0, 0)]
    // Width given on its own: ow deduces the right padding, pw the left.
    [InlineData("mb1ic3ih9iw8oc4ow5kh3kw3sw2pw1", 0, 0, 1, 2)]
    // Dilation (dh1 = 2 in the API) enters the reach: (8-1)*1 - 10 + (3-1)*2 + 1 = 2, split 1 and 1.
    [InlineData("mb1ic2ih10oc2oh8kh3dh1", 1, 1, 1, 1)]
    public void Output_sizes_deduce_the_padding_as_benchdnn_does(string text, int top, int bottom, int left, int right)
    {
        var p = ConvProblem.Parse(text);
        Assert.Equal((top, bottom, left, right), (p.PadTop, p.PadBottom, p.PadLeft, p.PadRight));
        if (ConvProblemOutput(text, 'h') is int oh) Assert.Equal(oh, p.OutHeight);
        if (ConvProblemOutput(text, 'w') is int ow) Assert.Equal(ow, p.OutWidth);
    }

    private static int? ConvProblemOutput(string text, char axis)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, $"o{axis}(\\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value) : null;
    }

    [Fact]
    public void Pooling_deduces_padding_from_output_sizes_too()
    {
        var p = PoolProblem.Parse("--alg=avg_p mb1ic8ih112oh56kh3sh2");
        Assert.Equal((0, 1, 0, 1), (p.PadTop, p.PadBottom, p.PadLeft, p.PadRight)); // TensorFlow "same", stride 2 on an even image
        Assert.Equal(56, p.OutWidth);
    }

    [Fact]
    public void Same_padding_matches_tensorflow_and_onnx()
    {
        // TensorFlow: out = ceil(in / stride), total = max((out-1)*stride + span - in, 0), the odd one at the end.
        Assert.Equal((2, 3), Geometry.SamePaddingOf(224, 7, 2));
        Assert.Equal((0, 1), Geometry.SamePaddingOf(112, 3, 2));
        Assert.Equal((1, 1), Geometry.SamePaddingOf(112, 3, 1));
        Assert.Equal((0, 0), Geometry.SamePaddingOf(7, 1, 1));
        Assert.Equal((0, 0), Geometry.SamePaddingOf(9, 1, 4));          // 1x1 stride 4: the strides skip nothing, need nothing
        Assert.Equal((3, 3), Geometry.SamePaddingOf(10, 3, 1, dilation: 3)); // span 7
        Assert.Equal((1, 0), Geometry.SamePaddingOf(112, 3, 2, mode: SamePadding.Lower));
        var conv = ConvProblem.Parse("mb1ic3ih224iw225oc8kh7kw7sh2sw2").WithSamePadding();
        Assert.Equal((112, 113), (conv.OutHeight, conv.OutWidth));
        Assert.Equal((2, 3, 3, 3), (conv.PadTop, conv.PadBottom, conv.PadLeft, conv.PadRight));
        var pool = PoolProblem.Parse("--alg=max mb1ic3ih8kh2sh2").WithSamePadding(SamePadding.Lower);
        Assert.Equal((4, 0, 0), (pool.OutHeight, pool.PadTop, pool.PadBottom));
        Assert.Throws<ArgumentOutOfRangeException>(() => Geometry.SamePaddingOf(0, 3, 1));
    }

    [Fact]
    public void Underscores_and_repeated_keys_are_read_as_benchdnn_does()
    {
        Assert.Equal(ConvProblem.Parse("mb1ic3ih5oc2kh3"), ConvProblem.Parse("_mb1__ic3_ih5_oc2_kh3_"));
        var repeated = ConvProblem.Parse("mb1ic16oc16_ih10kh5_kh5ph7sh1"); // from benchdnn's own shape files
        Assert.Equal((5, 7), (repeated.KernelHeight, repeated.PadTop));
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
        Assert.Equal(0, Geometry.OutputSize(input: 2, kernel: 5, stride: 1, padBefore: 1, padAfter: 1, dilation: 1));
        Assert.Equal(4, Geometry.OutputSize(input: 2, kernel: 5, stride: 1, padBefore: 1, padAfter: 5, dilation: 1));
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
    [InlineData("mb1ic3ih9iw14oc4kh3kw5sw3pw2dh2")]
    [InlineData("mb2ic32ih13oc13oh12kh3ph0n\"tails_conv:1\"")]
    [InlineData("mb1ic3ih224iw225oc8oh112kh7kw7sh2sw2ph2pw3")]
    [InlineData("mb1ic3ih9iw9oc4ow9kh3kw3ph1pw0")]
    [InlineData("--alg=avg_np mb1ic8ih112oh56kh3sh2ph0")]
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
            Assert.Equal(AsWritten(conv), ConvProblem.Parse(conv.ToString()));
            var pool = RandomProblems.Pool(seed);
            Assert.Equal(AsWritten(pool), PoolProblem.Parse(pool.ToString()));
        }
    }

    /// <summary>
    /// What the canonical text reads back as: the same problem, except that an asymmetric
    /// bottom/right padding is written through the output size, so what no output reads of it
    /// (rows and columns a stride skips) is dropped.
    /// </summary>
    private static ConvProblem AsWritten(ConvProblem p) => p with
    {
        PadBottom = AfterAsWritten(p.HeightAxis),
        PadRight = AfterAsWritten(p.WidthAxis),
    };

    private static PoolProblem AsWritten(PoolProblem p) => p with
    {
        PadBottom = AfterAsWritten(p.HeightAxis),
        PadRight = AfterAsWritten(p.WidthAxis),
    };

    private static int AfterAsWritten(Axis a) => a.PadAfter == a.PadBefore ? a.PadAfter : (int)Math.Max(0, a.EffectivePadAfter);

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
    [InlineData("mb1ic3ih5oc2kh3ph1ph2", "'ph' is given twice with different values (1 and 2)")]
    [InlineData("mb1ih5oc2kh3", "required parameter 'ic'")]
    [InlineData("mb1ic3oc2kh3", "required parameter 'ih'")]
    [InlineData("mb1ic3ih5oc2sh2", "required parameter 'kh'")]
    [InlineData("mb1ic3ih9oc4kh3sw2", "required parameter 'iw' is missing (once any width parameter is given")]
    [InlineData("mb1ic3ih9iw9oc4kh3pw1", "required parameter 'kw' is missing")]
    [InlineData("mb1ic3ih5oc2kh", "'kh' at position 12 has no value")]
    [InlineData("mb1ic3ih5oc2kh3n\"open", "unterminated")]
    [InlineData("mb1ic3ih9oc4oh3kh3", "oh3 would need negative padding: the deduced ph = ((oh-1)*sh - ih + (kh-1)*(dh+1) + 1) / 2 = -2")]
    [InlineData("mb1ic3ih9oc4oh3kh3ph1", "oh3 would need bottom padding (oh-1)*sh - ih + (kh-1)*(dh+1) + 1 - ph = -5")]
    [InlineData("mb1ic3ih9iw9oc4ow2kh3kw3pw0", "ow2 would need right padding")]
    [InlineData("mb1ic3ih99999999999oc2kh3", "larger than")]
    [InlineData("mb1ic3ih5oc2kh3 mb1ic3ih5oc2kh3", "more than one descriptor")]
    [InlineData("--attr-post-ops=gelu mb1ic3ih5oc2kh3", "--attr-post-ops=gelu is not supported")]
    [InlineData("--attr-post-ops=relu:x mb1ic3ih5oc2kh3", "--attr-post-ops=relu:x is not supported")]
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
    [InlineData("mb1ic3id5ih5oc2kd3kh3", "a 3-D problem")]
    [InlineData("mb1ic3ih5oc2kh3sd2", "a 3-D problem")]
    [InlineData("mb1ic3iw5oc2kw3", "a 1-D problem")]
    [InlineData("mb1ic3ow5iw7oc2kw3", "a 1-D problem")]
    public void Problems_of_other_dimensions_are_refused_as_unsupported(string text, string expected)
    {
        var error = Assert.Throws<UnsupportedProblemException>(() => ConvProblem.Parse(text));
        Assert.Contains(expected, error.Message);
        Assert.Contains("2-D problems only", error.Message);
        Assert.Contains("dilated pooling", Assert.Throws<UnsupportedProblemException>(() => PoolProblem.Parse("mb1ic3ih5kh3dh1")).Message);
    }

    [Theory]
    [InlineData("--alg=median mb1ic3ih5kh3", "unknown pooling algorithm --alg=median")]
    [InlineData("mb1ic3ih5oc3kh3", "'oc' is not a pooling parameter")]
    [InlineData("--attr-post-ops=relu mb1ic3ih5kh3", "--attr-post-ops does not apply here")]
    public void Bad_pooling_text_says_what_is_wrong(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => PoolProblem.Parse(text)).Message);

    [Fact]
    public void Suite_errors_name_the_file_and_line()
    {
        var error = Assert.Throws<FormatException>(() => ProblemSuite.Parse(["mb1ic3ih5oc2kh3", "# fine", "mb1ic3ih5oc2kh3zz1"], "my.txt"));
        Assert.StartsWith("my.txt:3:", error.Message);
        Assert.Contains("unknown option --cfg", Assert.Throws<FormatException>(() => ProblemSuite.Parse(["--cfg=f32 mb1ic3ih5oc2kh3"])).Message);
        Assert.Contains("--mb=x must be a non-negative integer", Assert.Throws<FormatException>(() => ProblemSuite.Parse(["--mb=x mb1ic3ih5oc2kh3"])).Message);
        Assert.Contains("not a valid regular expression", Assert.Throws<FormatException>(() => ProblemSuite.Parse(["--match=( mb1ic3ih5oc2kh3"])).Message);
    }

    [Fact]
    public void Suite_options_mb_match_drivers_and_reset_work_as_in_benchdnn()
    {
        var problems = ProblemSuite.Parse(
        [
            "--mb=16 mb1ic3ih5oc2kh3n\"a\" ic3ih5oc2kh3n\"b\"",  // --mb overrides what follows
            "--mb=0 mb1ic3ih5oc2kh3n\"c\"",                        // 0: as written
            "--match=.*keep.* mb1ic3ih5oc2kh3n\"keep me\" mb1ic3ih5oc2kh3n\"drop me\"",
            "--reset --pool mb1ic3ih5kh3n\"pool without oc\"",     // --reset clears --match
            "--conv mb1ic3ih5oc2kh3n\"conv\"",
        ]);
        Assert.Equal(["a", "b", "c", "keep me", "pool without oc", "conv"], problems.Select(p => p.Name));
        Assert.Equal([16, 16, 1], problems.Take(3).Select(p => ((ConvProblem)p).Batch));
        Assert.IsType<PoolProblem>(problems[4]);
        Assert.IsType<ConvProblem>(problems[5]);
        Assert.Contains("'oc' is not a pooling parameter", Assert.Throws<FormatException>(() => ProblemSuite.Parse(["--pool mb1ic3ih5oc2kh3"])).Message);
    }

    [Fact]
    public void A_driver_option_starts_its_problems_from_the_default_options()
    {
        var problems = ProblemSuite.Parse(
        [
            "--conv --dir=BWD_D --attr-post-ops=relu mb1ic3ih5oc2kh3n\"conv\"",
            "--ip mb2ic8oc4n\"ip\"",                      // neither --dir nor the ReLU carry over
            "--dir=BWD_WB --attr-post-ops=tanh mb2ic8oc4n\"ip bwd\"",
            "--eltwise --alg=tanh 2x3n\"eltwise\"",
        ]);
        var conv = Assert.IsType<ConvProblem>(problems[0]);
        Assert.Equal((Direction.BackwardData, Activation.Relu), (conv.Direction, conv.Activation));
        var dense = Assert.IsType<DenseProblem>(problems[1]);
        Assert.Equal((Direction.ForwardInference, Activation.None), (dense.Direction, dense.Activation));
        var denseBackward = Assert.IsType<DenseProblem>(problems[2]);
        Assert.Equal((Direction.BackwardWeightsAndBias, Activation.Tanh), (denseBackward.Direction, denseBackward.Activation));
        Assert.Equal(Activation.Tanh, Assert.IsType<EltwiseProblem>(problems[3]).Activation);
        // Kinds the reader cannot tell from the descriptor write their driver, so each text re-reads alone.
        Assert.StartsWith("--ip --dir=BWD_WB ", denseBackward.ToString());
        Assert.StartsWith("--eltwise ", problems[3].ToString());
        foreach (var problem in problems)
            Assert.Equal(problem, ProblemSuite.Parse([problem.ToString()]).Single());
        Assert.Equal(dense, DenseProblem.Parse(dense.ToString()));
    }

    [Fact]
    public void Suites_skip_and_count_what_only_benchdnn_runs()
    {
        var problems = ProblemSuite.Parse(
        [
            "mb1ic3ih5oc2kh3n\"2-D\"",
            "mb1ic3id5ih5oc2kd3kh3n\"3-D\" mb1ic3iw5oc2kw3n\"1-D\"",
            "--alg=max mb1ic3ih5kh3dh1n\"dilated pooling\" mb1ic3ih5kh3",
        ], "shapes.txt");
        Assert.Equal(2, problems.Count);
        Assert.Equal(3, problems.Skipped.Count);
        Assert.Equal([2, 2, 3], problems.Skipped.Select(s => s.Line));
        Assert.StartsWith("shapes.txt:2: ", problems.Skipped[0].ToString());
        Assert.Contains("3-D", problems.Skipped[0].Reason);
        Assert.Contains("1-D", problems.Skipped[1].Reason);
    }
}
