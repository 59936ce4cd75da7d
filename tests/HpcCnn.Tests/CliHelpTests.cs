using System.Text.RegularExpressions;

namespace HpcCnn.Tests;

/// <summary>
/// Every command's help renders: option descriptions are Spectre.Console markup, where a bracket
/// in text (".gz" in "[.gz]", "[:GAMMA]") once made `hpccnn train --help` die with a markup error.
/// </summary>
public class CliHelpTests
{
    private static readonly string[] CommandNames = ["info", "check", "bench", "train", "evaluate", "cam", "transfer", "predict"];

    public static IEnumerable<object[]> Commands() => CommandNames.Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_help_renders(string command)
    {
        var (exitCode, output) = CliRunner.Run(null, command, "--help");
        Assert.True(exitCode == 0, $"`hpccnn {command} --help` exited {exitCode}:\n{output}");
        Assert.Contains("USAGE", output);
        Assert.DoesNotContain("Error:", output);
    }

    [Fact]
    public void Every_listed_command_is_tested()
    {
        var (exitCode, output) = CliRunner.Run(null, "--help");
        Assert.Equal(0, exitCode);
        var listed = Regex.Matches(output[output.IndexOf("COMMANDS:", StringComparison.Ordinal)..], @"^\s{4}(\w+)", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();
        Assert.NotEmpty(listed);
        Assert.Equal(listed.OrderBy(c => c), CommandNames.OrderBy(c => c));
    }
}
