using System.Reflection;
using System.Runtime.InteropServices;

namespace HpcCnn.BindGen;

// The few libclang C API entry points the generator needs. Struct layouts follow clang-c/Index.h.
[StructLayout(LayoutKind.Sequential)]
internal struct CXCursor
{
    public CXCursorKind Kind;
    public int Xdata;
    public nint Data0, Data1, Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public CXTypeKind Kind;
    public nint Data0, Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public nint Data;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public nint Ptr0, Ptr1;
    public uint IntData;
}

internal enum CXCursorKind
{
    StructDecl = 2,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    ParmDecl = 10,
    TypedefDecl = 20,
}

internal enum CXTypeKind
{
    Invalid = 0,
    Void = 2,
    Bool = 3,
    CharU = 4,
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    CharS = 13,
    SChar = 14,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Float = 21,
    Double = 22,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionProto = 111,
    Elaborated = 119,
}

internal enum CXChildVisitResult
{
    Break = 0,
    Continue = 1,
    Recurse = 2,
}

internal static unsafe partial class LibClang
{
    private const string Library = "libclang";

    // Debian's packages first (libclang1-14 is on the fresh image; PoCL brings libclang1-15), then
    // whatever the loader finds; LIBCLANG_PATH overrides everything.
    private static readonly string[] Candidates =
    [
        "libclang-14.so.1", "libclang-15.so.1", "libclang-16.so.1", "libclang-17.so.1", "libclang-18.so.1",
        "libclang-19.so.1", "libclang.so.1", "libclang.so",
    ];

    static LibClang() => NativeLibrary.SetDllImportResolver(typeof(LibClang).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library) return 0;
        var tried = new List<string>();
        var overridePath = Environment.GetEnvironmentVariable("LIBCLANG_PATH");
        IEnumerable<string> candidates = string.IsNullOrEmpty(overridePath) ? Candidates : [overridePath];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            tried.Add(candidate);
        }
        throw new DllNotFoundException(
            $"libclang not found (tried {string.Join(", ", tried)}). Install Debian's libclang1-14 " +
            "(apt-get install libclang1-14 libclang-common-14-dev) or set LIBCLANG_PATH.");
    }

    [LibraryImport(Library)] public static partial nint clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Library)] public static partial void clang_disposeIndex(nint index);
    [LibraryImport(Library)]
    public static partial nint clang_parseTranslationUnit(nint index, byte* sourceFilename, byte** commandLineArgs,
        int numCommandLineArgs, nint unsavedFiles, uint numUnsavedFiles, uint options);
    [LibraryImport(Library)] public static partial void clang_disposeTranslationUnit(nint unit);
    [LibraryImport(Library)] public static partial uint clang_getNumDiagnostics(nint unit);
    [LibraryImport(Library)] public static partial nint clang_getDiagnostic(nint unit, uint index);
    [LibraryImport(Library)] public static partial int clang_getDiagnosticSeverity(nint diagnostic);
    [LibraryImport(Library)] public static partial CXString clang_formatDiagnostic(nint diagnostic, uint options);
    [LibraryImport(Library)] public static partial void clang_disposeDiagnostic(nint diagnostic);
    [LibraryImport(Library)] public static partial CXCursor clang_getTranslationUnitCursor(nint unit);
    [LibraryImport(Library)]
    public static partial uint clang_visitChildren(CXCursor parent,
        delegate* unmanaged<CXCursor, CXCursor, nint, CXChildVisitResult> visitor, nint clientData);
    [LibraryImport(Library)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getCursorResultType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Library)] public static partial CXCursor clang_getCursorDefinition(CXCursor cursor);
    [LibraryImport(Library)] public static partial int clang_Cursor_isNull(CXCursor cursor);
    [LibraryImport(Library)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Library)] public static partial int clang_Location_isFromMainFile(CXSourceLocation location);
    [LibraryImport(Library)] public static partial CXType clang_getCanonicalType(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_Type_getNamedType(CXType type);
    [LibraryImport(Library)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Library)] public static partial CXString clang_getTypedefName(CXType type);
    [LibraryImport(Library)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Library)] public static partial long clang_Type_getOffsetOf(CXType type, byte* field);
    [LibraryImport(Library)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(Library)] public static partial void clang_disposeString(CXString text);

    /// <summary>Copies a CXString into a managed string and disposes it.</summary>
    public static string Take(CXString text)
    {
        try { return Marshal.PtrToStringUTF8((nint)clang_getCString(text)) ?? ""; }
        finally { clang_disposeString(text); }
    }

    public static string Spelling(CXCursor cursor) => Take(clang_getCursorSpelling(cursor));
    public static string Spelling(CXType type) => Take(clang_getTypeSpelling(type));

    /// <summary>The direct children of a cursor, in source order.</summary>
    public static List<CXCursor> Children(CXCursor parent)
    {
        var children = new List<CXCursor>();
        var handle = GCHandle.Alloc(children);
        try { clang_visitChildren(parent, &CollectChild, GCHandle.ToIntPtr(handle)); }
        finally { handle.Free(); }
        return children;
    }

    [UnmanagedCallersOnly]
    private static CXChildVisitResult CollectChild(CXCursor cursor, CXCursor parent, nint clientData)
    {
        // Never let an exception cross back into libclang.
        try
        {
            ((List<CXCursor>)GCHandle.FromIntPtr(clientData).Target!).Add(cursor);
            return CXChildVisitResult.Continue;
        }
        catch
        {
            return CXChildVisitResult.Break;
        }
    }
}
