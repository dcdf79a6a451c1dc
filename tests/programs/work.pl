# work.pl - hashes, arrays, string building, regular expressions and sort;
# prints counts and an MD5 of what it built.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $n = $ARGV[0] // 200000;
my (%h, @a);
for my $i (1 .. $n) {
    my $k = sprintf("key%06d", ($i * 7919) % $n);
    $h{$k} .= chr(65 + $i % 26) x (1 + $i % 7);
    push @a, $k if $i % 3;
    delete $h{sprintf("key%06d", $i / 2)} if $i % 5 == 0;
}
my $joined = join(",", map { "$_=$h{$_}" } sort keys %h);
my @matches = ($joined =~ /key(\d\d)1\d+=([A-Z]{3,})/g);
my @sorted = sort { $b cmp $a } @a;
print "keys ", scalar(keys %h), " array ", scalar(@a), " matches ", scalar(@matches), "\n";
print "md5 ", md5_hex($joined), " ", md5_hex(join("", @sorted[0 .. 999])), "\n";
