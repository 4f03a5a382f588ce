using MlPlatform.GrpcContracts;

namespace MlPlatform.UnitTests.Gateway;

/// <summary>
/// <c>grpc-message</c> is percent-encoded as the gRPC HTTP/2 protocol says: printable ASCII except '%' stays as it is. grpc-js decodes
/// with decodeURI, so anything encoded beyond that (':', ';', '/') reached Node clients as "%3A".
/// </summary>
public sealed class GrpcMessageEncodingTests
{
    [Theory]
    [InlineData("An API key is required: send 'Authorization: Bearer <key>'.", "An API key is required: send 'Authorization: Bearer <key>'.")]
    [InlineData("refused for 30 s; retry after 18 s / 100%", "refused for 30 s; retry after 18 s / 100%25")]
    [InlineData("line\nbreak\ttab", "line%0Abreak%09tab")]
    [InlineData("modèle", "mod%C3%A8le")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    public void PrintableAsciiOtherThanPercentIsKeptAndTheRestIsItsUtf8Bytes(string message, string encoded) =>
        Assert.Equal(encoded, GrpcStatusCodes.EncodeMessage(message));

    [Fact]
    public void AnUnpairedSurrogateIsSentAsTheReplacementCharacter() =>
        // Built at run time: an attribute's string cannot hold an unpaired surrogate.
        Assert.Equal("a%EF%BF%BDb", GrpcStatusCodes.EncodeMessage("a" + (char)0xD800 + "b"));

    [Fact]
    public void WhatTheEncodingWritesDecodesBackToTheMessage()
    {
        const string message = "Version 3 of model 'x' is archived; 100% sure: ok/ko «é»";

        Assert.Equal(message, Uri.UnescapeDataString(GrpcStatusCodes.EncodeMessage(message)));
    }
}
