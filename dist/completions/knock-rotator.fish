# fish completion for knock-rotator, knock and knock-rotate (copy to
# ~/.config/fish/completions/ as knock-rotator.fish, and link knock.fish and
# knock-rotate.fish to it). One option list per applet, used for the links too.

# __knock_rotator_options CMD CONDITION APPLET
function __knock_rotator_options -a cmd cond applet
    complete -c $cmd -f -n $cond -s h -l help -d 'show the help'
    complete -c $cmd -f -n $cond -s V -l version -d 'show the version'
    switch $applet
        case generate
            __knock_rotator_profile_options $cmd $cond
            complete -c $cmd -f -n $cond -l offset -x -d 'N periods away'
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
            complete -c $cmd -f -n $cond -l format -x -a 'plain knockd token' -d 'output form'
        case knock
            __knock_rotator_profile_options $cmd $cond
            complete -c $cmd -f -n $cond -a '(__knock_rotator_profiles)'
            complete -c $cmd -f -n $cond -s 4 -d 'IPv4 only'
            complete -c $cmd -f -n $cond -s 6 -d 'IPv6 only'
            complete -c $cmd -f -n $cond -s d -l delay -x -d 'pause between knocks (ms)'
            complete -c $cmd -f -n $cond -s v -l verbose -d 'print each knock'
            complete -c $cmd -f -n $cond -s u -l udp -d 'classic form: ports are udp'
            complete -c $cmd -f -n $cond -l offset -x -d 'N periods away'
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
            complete -c $cmd -f -n $cond -l window -x -d 'boundary window (s)'
            complete -c $cmd -f -n $cond -l check -x -d 'port to check after knocking'
            complete -c $cmd -f -n $cond -l check-timeout -x -d 'how long a check waits (ms)'
            complete -c $cmd -f -n $cond -l retries -x -d 'knocks again after a failed check'
            complete -c $cmd -f -n $cond -l proxy -x -d 'check PORT, then relay stdin/stdout over it'
            complete -c $cmd -f -n $cond -l fdpass -d 'with --proxy: hand the socket to ssh'
            complete -c $cmd -f -n $cond -l token -x -d 'send the token to this UDP port'
            complete -c $cmd -f -n $cond -l raw -d 'raw TCP segments'
            complete -c $cmd -f -n $cond -l tcpflags -x -d 'flags of raw TCP knocks'
            complete -c $cmd -f -n $cond -a '(__fish_print_hostnames)'
        case rotate
            complete -c $cmd -f -n $cond -l backend -x -a 'knockd nftables' -d 'knockd or the kernel (nftables)'
            complete -c $cmd -f -n $cond -l remove -d 'nftables: delete our table'
            complete -c $cmd -n $cond -s c -l config -r -F -d 'knockd configuration'
            complete -c $cmd -n $cond -l doors-file -r -F -d 'per-door settings'
            complete -c $cmd -f -n $cond -s n -l dry-run -d 'show what would change'
            complete -c $cmd -f -n $cond -l show-sequences -d 'show sequences in the diff'
            complete -c $cmd -f -n $cond -l at -x -d 'rotate for the period holding this time'
            complete -c $cmd -n $cond -l pidfile -r -F -d 'knockd pid file'
            complete -c $cmd -f -n $cond -l reload-command -x -d 'reload with this command'
            complete -c $cmd -f -n $cond -l no-reload -d 'write the file only'
            complete -c $cmd -f -n $cond -s w -l watch -d 'rotate at every boundary'
            complete -c $cmd -f -n $cond -l no-boundary-run -d 'do not stay behind for a boundary'
            complete -c $cmd -f -n $cond -s q -l quiet -d 'print only warnings and errors'
        case status
            complete -c $cmd -f -n $cond -l backend -x -a 'knockd nftables' -d 'knockd or the kernel (nftables)'
            complete -c $cmd -n $cond -s c -l config -r -F -d 'knockd configuration'
            complete -c $cmd -n $cond -l doors-file -r -F -d 'per-door settings'
            __knock_rotator_profile_options $cmd $cond
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
            complete -c $cmd -f -n $cond -l json -d 'one JSON object, for monitoring'
        case fingerprint
            __knock_rotator_profile_options $cmd $cond
        case config
            __knock_rotator_profile_options $cmd $cond
            complete -c $cmd -f -n $cond -l door -x -d 'a rotator door of the server'
            complete -c $cmd -n $cond -l doors-file -r -F -d 'per-door settings'
        case new-secret
            complete -c $cmd -n $cond -F
        case profile
            complete -c $cmd -f -n $cond -l host -x -a '(__fish_print_hostnames)' -d 'what clients knock'
            complete -c $cmd -f -n $cond -l name -x -d 'the profile name'
            complete -c $cmd -f -n $cond -l with-secret -d 'put the secret in the profile'
            complete -c $cmd -n $cond -l doors-file -r -F -d 'per-door settings'
        case import
            complete -c $cmd -f -n $cond -l name -x -d 'the profile name'
            complete -c $cmd -f -n $cond -l replace -d 'replace a profile of that name'
            complete -c $cmd -n $cond -l config-file -r -F -d 'the profiles file'
            complete -c $cmd -f -n $cond -l shortcut -x -a 'knock ssh' -d 'also a Termux:Widget shortcut'
            complete -c $cmd -n $cond -F
    end
end

# The profile names of the client config file.
function __knock_rotator_profiles
    set -l f $KNOCKD_ROTATOR_CONFIG
    if test -z "$f"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set f $base/knock-rotator/config
    end
    test -r $f; and sed -n 's/^[[:space:]]*\[\([^]]*\)\][[:space:]]*$/\1/p' $f
end

function __knock_rotator_profile_options -a cmd cond
    complete -c $cmd -f -n $cond -s p -l profile -x -a '(__knock_rotator_profiles)' -d 'a client profile'
    complete -c $cmd -n $cond -l config-file -r -F -d 'the profiles file'
end

set -l applets generate knock rotate status fingerprint config new-secret profile import help
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -a "$applets"
complete -c knock-rotator -n "not __fish_seen_subcommand_from $applets" -l install -r -a '(__fish_complete_directories)' -d 'links beside the executable or in DIR'
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -s h -l help -d 'show the help'
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -s V -l version -d 'show the version'
for a in generate knock rotate status fingerprint config new-secret profile import
    __knock_rotator_options knock-rotator "__fish_seen_subcommand_from $a" $a
end
__knock_rotator_options knock true knock
__knock_rotator_options knock-rotate true rotate
