global using HpcCnn.Problems;
global using HpcCnn.Verification;
global using Xunit;
