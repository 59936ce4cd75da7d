using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Tracing;
using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// The library's log, as an <see cref="EventSource"/> named "HpcCnn": what <c>HPCCNN_VERBOSE=1</c>
/// prints for the native backend, for every backend and without touching stderr. Listen in process
/// with an <see cref="EventListener"/>, or from outside with <c>dotnet-trace collect --providers HpcCnn</c>
/// (or <c>dotnet-counters</c>/ILogger bridges that read EventSources). Costs one flag test per plan
/// when nobody listens; runs are not logged (they are the hot path).
/// </summary>
[EventSource(Name = "HpcCnn")]
public sealed class HpcCnnEventSource : EventSource
{
    /// <summary>The one instance.</summary>
    public static readonly HpcCnnEventSource Log = new();

    private HpcCnnEventSource() { }

    /// <summary>Event id of <see cref="PlanCreated"/>.</summary>
    public const int PlanCreatedId = 1;

    /// <summary>A plan was created: which backend, the problem in benchdnn's syntax, what it chose, and how long creation took.</summary>
    [Event(PlanCreatedId, Level = EventLevel.Informational, Message = "{0} {1} {2}: {3} on {4} in {5} ms")]
    [UnconditionalSuppressMessage("ReflectionAnalysis", "IL2026", Justification = "The payload is strings and a double: primitive types, nothing to trim.")]
    public unsafe void PlanCreated(string backend, string direction, string problem, string algorithm, string isa, double milliseconds)
    {
        // WriteEventCore with pinned fields: no object[] and nothing trimming or AOT would break.
        fixed (char* b = backend)
        fixed (char* d = direction)
        fixed (char* p = problem)
        fixed (char* a = algorithm)
        fixed (char* i = isa)
        {
            var data = stackalloc EventData[6];
            data[0] = Text(b, backend);
            data[1] = Text(d, direction);
            data[2] = Text(p, problem);
            data[3] = Text(a, algorithm);
            data[4] = Text(i, isa);
            data[5] = new EventData { DataPointer = (nint)(&milliseconds), Size = sizeof(double) };
            WriteEventCore(PlanCreatedId, 6, data);
        }
    }

    private static unsafe EventData Text(char* chars, string text) =>
        new() { DataPointer = (nint)chars, Size = (text.Length + 1) * sizeof(char) };

    /// <summary>Logs <paramref name="plan"/> made by <paramref name="backend"/> since <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    [NonEvent]
    internal T Created<T>(Backend backend, T plan, long started) where T : Plan
    {
        if (IsEnabled())
            PlanCreated(backend.Name, DirectionText.Name(plan.Direction), plan.ToString(), plan.Algorithm, plan.Isa,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return plan;
    }
}
