# bash completion for knock-rotator, knock and knock-rotate.
# Install: copy to /usr/share/bash-completion/completions/knock-rotator and
# link knock and knock-rotate to it, or source it from ~/.bashrc.
# The profile names of the client config file.
_knock_rotator_profiles() {
    local f=${KNOCKD_ROTATOR_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/knock-rotator/config}
    [ -r "$f" ] && sed -n 's/^[[:space:]]*\[\([^]]*\)\][[:space:]]*$/\1/p' "$f"
}

_knock_rotator() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local applet=${COMP_WORDS[0]##*/}
    case $applet in
        knock) ;;
        knock-rotate) applet=rotate ;;
        *)
            if [ "$COMP_CWORD" -eq 1 ]; then
                COMPREPLY=($(compgen -W "generate knock rotate status fingerprint config new-secret profile import help --install --help --version" -- "$cur"))
                return
            fi
            # Any unambiguous prefix names an applet, as on the command line.
            case ${COMP_WORDS[1]} in
                g*) applet=generate ;;
                k*) applet=knock ;;
                r*) applet=rotate ;;
                s*) applet=status ;;
                f*) applet=fingerprint ;;
                c*) applet=config ;;
                n*) applet=new-secret ;;
                p*) applet=profile ;;
                i*) applet=import ;;
                --install) COMPREPLY=($(compgen -d -- "$cur")); return ;;
                *) return ;;
            esac ;;
    esac
    case $prev in
        -c|--config|--pidfile|--config-file|--doors-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -p|--profile) COMPREPLY=($(compgen -W "$(_knock_rotator_profiles)" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "plain knockd token" -- "$cur")); return ;;
        --offset|--at|--delay|-d|--window|--check|--check-timeout|--retries|--tcpflags|--reload-command|--door|--name|--proxy|--token) return ;;
        --shortcut) COMPREPLY=($(compgen -W "knock ssh" -- "$cur")); return ;;
        --host) COMPREPLY=($(compgen -A hostname -- "$cur")); return ;;
    esac
    case $prev in
        --backend) COMPREPLY=($(compgen -W "knockd nftables" -- "$cur")); return ;;
    esac
    local opts
    case $applet in
        generate) opts="-p --profile --config-file --offset --at --format -h --help -V --version" ;;
        knock) opts="-p --profile --config-file -4 -6 -d --delay -v --verbose -u --udp --offset --at --window --check --check-timeout --retries --proxy --fdpass --token --raw --tcpflags -h --help -V --version"
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -W "$(_knock_rotator_profiles)" -A hostname -- "$cur"))
                return
            fi ;;
        rotate) opts="--backend --remove -c --config --doors-file -n --dry-run --show-sequences --at --pidfile --reload-command --no-reload -w --watch --no-boundary-run -q --quiet -h --help -V --version" ;;
        status) opts="--backend -c --config --doors-file -p --profile --config-file --at --json -h --help -V --version" ;;
        fingerprint) opts="-p --profile --config-file -h --help -V --version" ;;
        config) opts="-p --profile --config-file --door --doors-file -h --help -V --version" ;;
        new-secret) opts="-h --help -V --version"
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
                return
            fi ;;
        profile) opts="--host --name --with-secret --doors-file -h --help -V --version" ;;
        import) opts="--name --replace --config-file --shortcut -h --help -V --version"
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
                return
            fi ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _knock_rotator knock-rotator knock knock-rotate
