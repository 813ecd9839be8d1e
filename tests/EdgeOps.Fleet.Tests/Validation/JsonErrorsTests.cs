using System.Text.Json;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Tests.Validation;

/// <summary>JSON errors are said with where they are (line and byte from 1) and without the serializer's internals.</summary>
public sealed class JsonErrorsTests
{
    private sealed record Sample(int Count, string? Name);

    [Fact]
    public void SyntaxError_SaysWhatAndWhere_CountingFromOne()
    {
        var ex = Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse("{\n  \"a\": 1,\n  b"));

        Assert.Equal("'b' is an invalid start of a property name. Expected a '\"' (line 3, byte 3)", JsonErrors.Describe(ex));
    }

    [Fact]
    public void ValueOfTheWrongType_NamesItsPath_NotTheDotNetType()
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Sample>("{\"Count\": \"many\"}"));

        Assert.Equal("$.Count is not of the expected type (line 1, byte 17)", JsonErrors.Describe(ex));
        Assert.DoesNotContain("Int32", JsonErrors.Describe(ex), StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentOfTheWrongShape_NamesTheRoot()
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Sample>("[1]"));

        Assert.Equal("$ is not of the expected type (line 1, byte 2)", JsonErrors.Describe(ex));
    }
}
