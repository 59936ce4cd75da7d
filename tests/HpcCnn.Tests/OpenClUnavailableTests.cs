using System.Diagnostics;

namespace HpcCnn.Tests;

/// <summary>
/// Without an OpenCL platform the backend fails with a typed error that says what to install. The
/// ICD loader reads OCL_ICD_VENDORS once per process, so the check runs `hpccnn` in a child
/// process pointed at an empty vendor folder; the command turns OpenClUnavailableException, and
/// only that, into its message and exit code 2.
/// </summary>
public class OpenClUnavailableTests
{
    [Fact]
    public void No_platform_is_a_clear_error_not_a_crash()
    {
        var emptyVendors = Directory.CreateTempSubdirectory("hpccnn-no-icd").FullName;
        try
        {
            var bench = RunCli(emptyVendors, "bench", "--backend", "opencl", "--min-time", "1", "--", "mb1ic1ih1oc1kh1");
            Assert.True(bench.ExitCode == 2, $"exit code {bench.ExitCode}\n{bench.Output}");
            Assert.Contains("pocl-opencl-icd", bench.Output);
            Assert.Matches("no platform|no OpenCL loader", bench.Output);

            var check = RunCli(emptyVendors, "check", "mb1ic2ih5oc2kh3");
            Assert.True(check.ExitCode == 0, $"exit code {check.ExitCode}\n{check.Output}");
            Assert.Contains("skipped backend opencl", check.Output);

            var info = RunCli(emptyVendors, "info");
            Assert.Equal(0, info.ExitCode);
            Assert.Contains("OpenCL: none", info.Output);
        }
        finally
        {
            Directory.Delete(emptyVendors, recursive: true);
        }
    }

    private static (int ExitCode, string Output) RunCli(string vendorsFolder, params string[] arguments) =>
        CliRunner.Run(new Dictionary<string, string> { ["OCL_ICD_VENDORS"] = vendorsFolder }, arguments);
}
