using System.Runtime.InteropServices;
using static HpcCnn.BindGen.LibClang;

namespace HpcCnn.BindGen;

// What the generator reads from the header, independent of libclang's version. Types are resolved
// while the translation unit is alive: libclang's CXType values die with it.

/// <summary>A C type as the generator needs it: the base type's C# name and the pointer depth.</summary>
/// <param name="Name">C# keyword for a primitive (float, long, byte, void) or the header's own type name.</param>
/// <param name="IsOpaque">The base type is declared but never defined in the header (a plan handle).</param>
internal sealed record TypeRef(string Name, int PointerDepth, bool IsOpaque);

internal sealed record EnumModel(string Name, List<(string Name, long Value)> Members);

internal sealed record FieldModel(string Name, TypeRef Type, long OffsetBytes);

internal sealed record StructModel(string Name, long SizeBytes, List<FieldModel> Fields);

internal sealed record ParameterModel(string Name, TypeRef Type);

internal sealed record FunctionModel(string Name, TypeRef ReturnType, List<ParameterModel> Parameters);

internal sealed class HeaderModel
{
    public List<EnumModel> Enums { get; } = [];
    public List<StructModel> Structs { get; } = [];
    /// <summary>Types declared but never defined (`typedef struct hc_conv2d hc_conv2d;`): plan handles.</summary>
    public List<string> OpaqueTypes { get; } = [];
    public List<FunctionModel> Functions { get; } = [];

    /// <summary>Parses a C header and collects the declarations it makes itself (not its includes).</summary>
    public static unsafe HeaderModel Parse(string headerPath)
    {
        var index = clang_createIndex(0, 0);
        string[] arguments = ["-x", "c", "-std=c11"];
        var argumentPointers = arguments.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        var path = Marshal.StringToCoTaskMemUTF8(headerPath);
        try
        {
            nint unit;
            fixed (nint* args = argumentPointers)
                unit = clang_parseTranslationUnit(index, (byte*)path, (byte**)args, arguments.Length, 0, 0, 0);
            if (unit == 0) throw new InvalidOperationException($"libclang could not parse {headerPath}");
            try
            {
                ThrowOnErrors(unit);
                var model = new HeaderModel();
                foreach (var cursor in Children(clang_getTranslationUnitCursor(unit)))
                {
                    if (clang_Location_isFromMainFile(clang_getCursorLocation(cursor)) == 0) continue;
                    if (cursor.Kind == CXCursorKind.TypedefDecl) model.AddTypedef(cursor);
                    else if (cursor.Kind == CXCursorKind.FunctionDecl) model.AddFunction(cursor);
                }
                return model;
            }
            finally { clang_disposeTranslationUnit(unit); }
        }
        finally
        {
            foreach (var pointer in argumentPointers) Marshal.FreeCoTaskMem(pointer);
            Marshal.FreeCoTaskMem(path);
            clang_disposeIndex(index);
        }
    }

    private static void ThrowOnErrors(nint unit)
    {
        const int errorSeverity = 3;
        var errors = new List<string>();
        for (uint i = 0; i < clang_getNumDiagnostics(unit); i++)
        {
            var diagnostic = clang_getDiagnostic(unit, i);
            if (clang_getDiagnosticSeverity(diagnostic) >= errorSeverity)
                errors.Add(Take(clang_formatDiagnostic(diagnostic, 0)));
            clang_disposeDiagnostic(diagnostic);
        }
        if (errors.Count > 0)
            throw new InvalidOperationException("the header does not compile:\n" + string.Join("\n", errors));
    }

    /// <summary>Strips the sugar newer libclang versions wrap around named types.</summary>
    public static CXType Unelaborate(CXType type) =>
        type.Kind == CXTypeKind.Elaborated ? clang_Type_getNamedType(type) : type;

    private void AddTypedef(CXCursor cursor)
    {
        var name = Spelling(cursor);
        var underlying = Unelaborate(clang_getTypedefDeclUnderlyingType(cursor));
        var declaration = clang_getTypeDeclaration(underlying);
        switch (underlying.Kind)
        {
            case CXTypeKind.Enum:
                Enums.Add(new EnumModel(name, Children(declaration)
                    .Where(c => c.Kind == CXCursorKind.EnumConstantDecl)
                    .Select(c => (Spelling(c), clang_getEnumConstantDeclValue(c)))
                    .ToList()));
                break;
            case CXTypeKind.Record when clang_Cursor_isNull(clang_getCursorDefinition(declaration)) != 0:
                OpaqueTypes.Add(name);
                break;
            case CXTypeKind.Record:
                Structs.Add(new StructModel(name, clang_Type_getSizeOf(underlying), Children(declaration)
                    .Where(c => c.Kind == CXCursorKind.FieldDecl)
                    .Select(c => new FieldModel(Spelling(c), Resolve(clang_getCursorType(c)), OffsetOf(underlying, Spelling(c))))
                    .ToList()));
                break;
            default:
                throw new NotSupportedException($"typedef {name}: only enums and structs are supported");
        }
    }

    private static unsafe long OffsetOf(CXType record, string field)
    {
        var text = Marshal.StringToCoTaskMemUTF8(field);
        try { return clang_Type_getOffsetOf(record, (byte*)text) / 8; }
        finally { Marshal.FreeCoTaskMem(text); }
    }

    private void AddFunction(CXCursor cursor) =>
        Functions.Add(new FunctionModel(Spelling(cursor), Resolve(clang_getCursorResultType(cursor)), Children(cursor)
            .Where(c => c.Kind == CXCursorKind.ParmDecl)
            .Select(c => new ParameterModel(Spelling(c), Resolve(clang_getCursorType(c))))
            .ToList()));

    private static readonly Dictionary<string, string> FixedWidthTypes = new()
    {
        ["int8_t"] = "sbyte", ["uint8_t"] = "byte", ["int16_t"] = "short", ["uint16_t"] = "ushort",
        ["int32_t"] = "int", ["uint32_t"] = "uint", ["int64_t"] = "long", ["uint64_t"] = "ulong",
        ["size_t"] = "nuint", ["intptr_t"] = "nint", ["uintptr_t"] = "nuint",
    };

    private TypeRef Resolve(CXType type)
    {
        int depth = 0;
        type = Unelaborate(type);
        while (type.Kind == CXTypeKind.Pointer)
        {
            depth++;
            type = Unelaborate(clang_getPointeeType(type));
        }
        if (type.Kind == CXTypeKind.Typedef)
        {
            var name = Take(clang_getTypedefName(type));
            if (OpaqueTypes.Contains(name)) return new TypeRef(name, depth, IsOpaque: true);
            if (Enums.Any(e => e.Name == name) || Structs.Any(s => s.Name == name)) return new TypeRef(name, depth, false);
            if (FixedWidthTypes.TryGetValue(name, out var fixedWidth)) return new TypeRef(fixedWidth, depth, false);
        }
        var canonical = clang_getCanonicalType(type);
        return new TypeRef(canonical.Kind switch
        {
            CXTypeKind.Void => "void",
            CXTypeKind.CharS or CXTypeKind.SChar or CXTypeKind.CharU or CXTypeKind.UChar => "byte",
            CXTypeKind.Short => "short",
            CXTypeKind.UShort => "ushort",
            CXTypeKind.Int => "int",
            CXTypeKind.UInt => "uint",
            CXTypeKind.Long or CXTypeKind.LongLong => "long",
            CXTypeKind.ULong or CXTypeKind.ULongLong => "ulong",
            CXTypeKind.Float => "float",
            CXTypeKind.Double => "double",
            _ => throw new NotSupportedException($"C type '{Spelling(type)}' has no mapping"),
        }, depth, false);
    }
}
