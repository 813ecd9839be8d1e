using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Tests.Transactions;

public sealed class JournalTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "edgeops-state-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public void Write_ThenRead_RoundTripsEveryField()
    {
        var journal = new Journal(_state);
        var record = new JournalRecord("b2", "a1", TransactionPhase.Applied, new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero), "waiting for health");

        journal.Write(record);

        Assert.Equal(record, new Journal(_state).Read());
        Assert.Contains("\"phase\": \"Applied\"", File.ReadAllText(journal.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_LeavesNoTemporaryFilesAndReplacesAtomically()
    {
        var journal = new Journal(_state);
        journal.Write(new JournalRecord("b2", "a1", TransactionPhase.Applying, DateTimeOffset.UnixEpoch));
        journal.Write(new JournalRecord("b2", "a1", TransactionPhase.Committed, DateTimeOffset.UnixEpoch));

        Assert.Equal(["journal.json"], Directory.GetFiles(_state).Select(Path.GetFileName));
        Assert.Equal(TransactionPhase.Committed, journal.Read()!.Phase);
    }

    [Fact]
    public void Read_NoJournal_IsNull() => Assert.Null(new Journal(_state).Read());

    [Fact]
    public void Read_DamagedJournal_IsRefusedRatherThanGuessed()
    {
        Directory.CreateDirectory(_state);
        File.WriteAllText(Path.Combine(_state, "journal.json"), "{\"targetRevision\": \"b2\", \"pha");

        var damaged = Assert.Throws<InvalidDataException>(() => new Journal(_state).Read());
        Assert.Equal($"the transaction journal {Path.Combine(_state, "journal.json")} is damaged (Expected end of string, but instead reached end of data (line 1, byte 30)): it is not what EdgeOps writes there (its writes are atomic, so something else changed it); the agent will not guess what it held", damaged.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"appliedRevision\": 12}")]
    public void Read_StateOfAnotherShape_IsDamaged_SaidWithoutTheSerializersTypeNames(string text)
    {
        Directory.CreateDirectory(_state);
        File.WriteAllText(Path.Combine(_state, "state.json"), text);

        var damaged = Assert.Throws<InvalidDataException>(() => EdgeOps.Reconciler.Pipeline.ReconcilerState.Load(_state));
        Assert.StartsWith($"the reconciler state {Path.Combine(_state, "state.json")} is damaged ($", damaged.Message, StringComparison.Ordinal);
        Assert.Contains("is not of the expected type (line 1, byte ", damaged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("EdgeOps.Reconciler", damaged.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, RecoveryAction.None)]
    [InlineData(TransactionPhase.Applying, RecoveryAction.RollBack)]
    [InlineData(TransactionPhase.Applied, RecoveryAction.FinishCommit)]
    [InlineData(TransactionPhase.RollingBack, RecoveryAction.RollBack)]
    [InlineData(TransactionPhase.Committed, RecoveryAction.None)]
    [InlineData(TransactionPhase.RolledBack, RecoveryAction.None)]
    public void Decide_AfterACrash_FinishesOrRollsBack(TransactionPhase? phase, RecoveryAction expected) =>
        Assert.Equal(expected, Journal.Decide(phase is { } p ? new JournalRecord("b", "a", p, DateTimeOffset.UnixEpoch) : null));

    [Fact]
    public void FlushDirectory_UnknownFolder_IsAnIOError() =>
        Assert.Throws<IOException>(() => DurableFile.FlushDirectory(Path.Combine(_state, "missing")));

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}
