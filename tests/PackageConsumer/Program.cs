// A console app that takes HpcCnn as a package, the way a user's app does: .ci/package-test copies
// this file into a throw-away project outside the repository, adds the package from the local
// pack output with no CMake or gcc on PATH, and runs it (also published as Native AOT).
// Exit code 0 only when the convolution gives the hand-computed result.
using HpcCnn;
using HpcCnn.Cpu;
using HpcCnn.Problems;

// 1 image, 1 channel, 3x3 input 1..9; one 2x2 kernel of ones, bias 0.5: each output is the sum
// of its 2x2 window plus 0.5.
var problem = ConvProblem.Parse("mb1ic1ih3oc1kh2");
using var cpu = new CpuBackend(new CpuBackendOptions { Threads = 2 });
using var plan = cpu.CreateConvPlan(problem, [1f, 1f, 1f, 1f], [0.5f]);
float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
var y = new float[problem.OutputLength];
plan.Run(x, y);
float[] expected = [12.5f, 16.5f, 24.5f, 28.5f];
Console.WriteLine($"HpcCnn {NativeLibraryInfo.Version} from {NativeLibraryInfo.LoadedFrom}: {plan.Algorithm} on {plan.Isa}");
Console.WriteLine($"y = [{string.Join(", ", y)}]");
if (!y.SequenceEqual(expected))
{
    Console.Error.WriteLine($"wrong result: expected [{string.Join(", ", expected)}]");
    return 1;
}
try
{
    cpu.CreateConvPlan(problem with { StrideHeight = 0 }, [1f, 1f, 1f, 1f]);
    Console.Error.WriteLine("a zero stride was accepted");
    return 1;
}
catch (ArgumentException e)
{
    Console.WriteLine($"refused as expected: {e.Message}");
}
return 0;
